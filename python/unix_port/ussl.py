"""``import ussl`` (umqtt.simple 1.3.4's spelling) on the unix port: the
board's 1.21 firmware aliases it to its built-in ``ssl``; 1.25 aliases only
built-in modules, and ``ssl`` here is python/unix_port/ssl.py. Not for the board."""
from ssl import *  # noqa: F401,F403
