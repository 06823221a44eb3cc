#!/usr/bin/env bash
# Installs Intrustd from this checkout on a Debian host: the built jars and bundled apps in
# /opt/intrustd, a launcher at /usr/local/bin/intrustd, systemd units for an appliance and a
# flock (not enabled), and /etc/default/intrustd (kept if present). Run as root, after
# `./intrustd build` (or any other launcher command, which builds first).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${PREFIX:-/opt/intrustd}"
die() { printf 'install: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"
[ -d "$ROOT/cli/target/lib" ] || die "nothing built yet: run ./intrustd build first"

install -d "$PREFIX/lib" "$PREFIX/lib-cluster" "$PREFIX/apps" "$PREFIX/docs" /var/lib/intrustd
rm -f "$PREFIX"/lib/*.jar "$PREFIX"/lib-cluster/*.jar
cp "$ROOT"/cli/target/lib/*.jar "$PREFIX/lib/"
cp "$ROOT"/cli/target/lib-cluster/*.jar "$PREFIX/lib-cluster/"
rm -rf "$PREFIX/apps/hello" "$PREFIX/apps/pyserve"
cp -r "$ROOT/apps/hello/target" "$PREFIX/apps/hello"
cp -r "$ROOT/apps/pyserve" "$PREFIX/apps/pyserve"
cp -r "$ROOT"/docs/. "$PREFIX/docs/"
install -m 644 "$ROOT/cli/src/main/resources/logging.properties" "$PREFIX/logging.properties"

# The launcher finds a JDK >= 21 the way ./intrustd does, once, at install time.
JAVA="$(bash -c "source <(sed -n '/^java_major()/,/^}/p;/^find_jdk()/,/^}/p' '$ROOT/intrustd'); die() { echo \"\$*\" >&2; exit 1; }; find_jdk; echo \"\$JAVA_HOME/bin/java\"")"
# Hazelcast only on a clustered flock's class path (docs/flock-cluster.md).
cat > /usr/local/bin/intrustd <<LAUNCHER
#!/bin/sh
CP="$PREFIX/lib/*"
for a in "\$@"; do case "\$a" in --cluster-member*) CP="\$CP:$PREFIX/lib-cluster/*";; esac; done
exec "$JAVA" --enable-native-access=ALL-UNNAMED -Djava.util.logging.config.file="$PREFIX/logging.properties" \
  \${INTRUSTD_JAVA_OPTS:-} -cp "\$CP" org.intrustd.cli.Main "\$@"
LAUNCHER
chmod 755 /usr/local/bin/intrustd

install -m 644 "$ROOT/packaging/systemd/intrustd-appliance.service" "$ROOT/packaging/systemd/intrustd-flock.service" /etc/systemd/system/
[ -e /etc/default/intrustd ] || install -m 644 "$ROOT/packaging/default-intrustd" /etc/default/intrustd
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

cat <<DONE
Installed. Next:
  intrustd doctor --state /var/lib/intrustd/appliance     # what this host gives the appliance
  edit /etc/default/intrustd                               # the flock URL and the appliance's name
  systemctl enable --now intrustd-appliance                # (and intrustd-flock, if this host runs one)
  intrustd persona add me --role owner --state /var/lib/intrustd/appliance
DONE
