//! mqtt transport (not written yet).
