# Emulation of CanMV K230's `media` package for the unix port: just enough of
# media.sensor and media.media for img_stream's K230 scripts to run unchanged
# on a PC ("develop on your PC, deploy on the board"). Never frozen into
# firmware: the board has the real package.
