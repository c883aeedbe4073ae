# Sourced by the scripts that take packages from Debian's archive without touching the
# machine's own apt state: debian_mirror (the mirror /etc/apt already names) and
# apt_private, which sets APTOPT for apt-get/apt-cache on a private state in $APT_STATE
# (bookworm-backports, trixie, trixie-backports). Needs: APT_STATE, a log function.
# The mirror this machine already uses, read from /etc/apt (never written into the repo).
debian_mirror() {
  local m
  m=$(grep -rhoE '^(URIs:|deb)[[:space:]]+[a-z]+://[^[:space:]]+/debian/?([[:space:]]|$)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
      awk '{print $2}' | grep -v -- '-security' | head -n1)
  [ -n "$m" ] || { log "no Debian mirror configured in /etc/apt"; return 1; }
  echo "${m%/}"
}

apt_ready=
apt_private() {
  local st="$APT_STATE"
  if [ -z "$apt_ready" ]; then
    local mirror; mirror=$(debian_mirror)
    mkdir -p "$st/lists/partial" "$st/cache/archives/partial"
    : > "$st/status"
    cat > "$st/sources.list" <<SRC
deb $mirror bookworm-backports main
deb $mirror trixie main
deb $mirror trixie-backports main
SRC
    APTOPT=(-o "Dir::Etc::SourceList=$st/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$st/lists" -o "Dir::State::Status=$st/status"
            -o "Dir::Cache=$st/cache" -o APT::Architecture=amd64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
    log "updating private apt lists (bookworm-backports, trixie, trixie-backports)"
    apt-get "${APTOPT[@]}" -qq update >&2
    apt_ready=1
  fi
}

