# Helpers shared by the demo and benchmark scripts (sourced, not run).

# A free TCP port on 127.0.0.1 (the kernel's choice).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_mosquitto DIR [CONF-LINE...]: a private, anonymous, memory-only
# Mosquitto on 127.0.0.1 (config and broker.log in DIR), extra config lines
# appended. Sets broker_port and broker_pid; returns once the port accepts.
start_mosquitto() {
    local dir=$1
    shift
    # Debian installs it in /usr/sbin, which is not on every PATH.
    mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    broker_port=$(free_port)
    printf '%s\n' "listener $broker_port 127.0.0.1" "allow_anonymous true" "persistence false" "$@" \
        >"$dir/mosquitto.conf"
    "$mosquitto" -c "$dir/mosquitto.conf" 2>"$dir/broker.log" &
    broker_pid=$!
    for _ in $(seq 1 100); do
        (: >"/dev/tcp/127.0.0.1/$broker_port") 2>/dev/null && return
        sleep 0.1
    done
    echo "mosquitto did not listen on $broker_port" >&2
    cat "$dir/broker.log" >&2
    return 1
}

# wait_line FILE REGEX: prints the first capture of REGEX in FILE, waiting up
# to 10 s for it (a process's log line such as its listening port).
wait_line() {
    local v
    for _ in $(seq 1 100); do
        v=$(sed -nE "s#$2#\\1#p" "$1" 2>/dev/null | head -1)
        [ -n "$v" ] && { echo "$v"; return; }
        sleep 0.1
    done
    echo "timed out waiting for $2 in $1" >&2
    cat "$1" >&2
    return 1
}
