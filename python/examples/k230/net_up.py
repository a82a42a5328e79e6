# Network bring-up shared by the K230 example scripts. On the board: Wi-Fi
# (set SSID/KEY) or the wired LAN; on the unix port there is no `network`
# module and the host's network is already up.
SSID = "your-ssid"
KEY = "your-password"


def script_args(*defaults):
    """The command-line arguments (unix port) in place of `defaults`, one by
    one, each turned into its default's type; on the board, which has no
    command line, the defaults set at the top of a script stand."""
    import sys
    argv = getattr(sys, "argv", [])[1:]
    return [type(d)(argv[i]) if i < len(argv) else d for i, d in enumerate(defaults)]


def net_up():
    try:
        import network
    except ImportError:
        return "unix port: host network"
    try:
        lan = network.LAN()
        if lan.active() and lan.ifconfig()[0] != "0.0.0.0":
            return lan.ifconfig()[0]
    except Exception:
        pass
    import time
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    if not sta.isconnected():
        sta.connect(SSID, KEY)
        for _ in range(100):
            if sta.isconnected():
                break
            time.sleep_ms(100)
    return sta.ifconfig()[0]
