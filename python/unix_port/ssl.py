"""PC stand-in for the CanMV firmware's built-in ``ssl`` module, so board
scripts that use TLS (``umqtt.simple.MQTTClient(..., ssl=True)``) run
unchanged on MicroPython 1.25's unix port.

The board's module is Canaan's MicroPython 1.21 fork's
``extmod/modssl_mbedtls.c`` (canmv-k230/micropython @0295137):
``wrap_socket(sock, *, key=None, cert=None, server_side=False,
server_hostname=None, cert_reqs=CERT_NONE, cadata=None, do_handshake=True)``
and ``SSLContext``. MicroPython 1.25 moved the C part to ``tls`` and left
``ssl`` to a Python package that Debian's source does not carry; this file
gives the 1.21 calls over ``tls``. On the board ``ssl`` is built in: do not
copy this file there.
"""
from tls import (CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED, PROTOCOL_TLS_CLIENT,  # noqa: F401
                 PROTOCOL_TLS_SERVER, SSLContext)


def wrap_socket(sock, *, key=None, cert=None, server_side=False, server_hostname=None,
                cert_reqs=CERT_NONE, cadata=None, do_handshake=True):
    ctx = SSLContext(PROTOCOL_TLS_SERVER if server_side else PROTOCOL_TLS_CLIENT)
    # 1.21 defaults to no verification; 1.25's client context to CERT_REQUIRED.
    ctx.verify_mode = cert_reqs
    if key is not None or cert is not None:
        ctx.load_cert_chain(cert, key)
    if cadata is not None:
        ctx.load_verify_locations(cadata)
    return ctx.wrap_socket(sock, server_side=server_side, server_hostname=server_hostname,
                           do_handshake_on_connect=do_handshake)
