# Assertion helpers for the MicroPython suite.
import os

# How many times slower than native this interpreter runs: tests/cross/run.sh
# sets ~20 under qemu. Deadlines that only bound a wait (never a measured
# rate) stretch by it, so a loaded emulator is slow, not failing.
TIME_SCALE = float(os.getenv("IMG_STREAM_TIME_SCALE") or 1)


def raises(exc_type, fn, *args, contains=None, **kwargs):
    """Calls fn and checks it raises exc_type (message containing `contains`)."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        if contains is not None and contains not in str(e):
            raise AssertionError("%r does not mention %r" % (str(e), contains))
        return e
    raise AssertionError("%s not raised" % exc_type.__name__)


def is_jpeg(b):
    return len(b) > 4 and b[0] == 0xFF and b[1] == 0xD8 and b[-2] == 0xFF and b[-1] == 0xD9


def bind_free_port(make_socket):
    """A socket from make_socket() bound to a free 127.0.0.1 port, and the
    port (the unix port has no getsockname, so try random ports)."""
    import random
    import socket
    for _ in range(50):
        port = random.randint(20000, 60000)
        s = make_socket()
        try:
            s.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        except OSError:
            s.close()
            continue
        return s, port
    raise OSError("no free port")
