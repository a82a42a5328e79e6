//! mjpeg transport (not written yet).
