//! udp transport (not written yet).
