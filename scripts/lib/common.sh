# Shared by scripts/demo, scripts/test and bench/: install what is missing, build.
# Sourced, not executed.

VALISE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian 12 packages; docs/dependencies.md says why each one.
VALISE_BUILD_PACKAGES=(
  cmake ninja-build ccache g++ pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsodium-dev libarchive-dev libzstd-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev libtomlplusplus-dev libsystemd-dev libre2-dev libisal-dev
  libhowardhinnant-date-dev libpq-dev
  scdoc
)
VALISE_TEST_PACKAGES=(
  libgtest-dev libgmock-dev zlib1g-dev age zstd xz-utils python3 clang-format
  systemd-journal-remote haproxy libarchive-tools chromium man-db bash-completion
  postgresql-15
)
# scripts/package: Debian's packaging tools and the man page generator.
VALISE_PACKAGE_PACKAGES=(debhelper dpkg-dev fakeroot lintian scdoc)
# Node.js and npm build the browser pages (web/) and run tus-js-client, Uppy
# and playwright-core in tests. The machine's own Node.js 20 (NodeSource's
# nodejs, npm included) is used when there is one; Debian's nodejs and npm
# only where there is none (they conflict with it).
command -v npm >/dev/null 2>&1 || VALISE_BUILD_PACKAGES+=(nodejs npm)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs the named Debian packages that are not installed yet.
install_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# `npm ci` in DIR when its node_modules is missing or older than its lock file
# (exact versions in DIR/package-lock.json; nothing fetched at run time).
npm_ci_if_stale() {
  local dir=$1 what=$2
  if [ ! -e "$dir/node_modules/.package-lock.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    command -v npm >/dev/null || die "npm not found: install Node.js 20 with npm (docs/dependencies.md)"
    log "installing $what (npm ci in ${dir#"$VALISE_ROOT"/})"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
  fi
}

# Configures and builds a CMake preset ("ci", "dev", ...).
build_preset() {
  local preset=$1; shift
  export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/valise-ccache}
  log "configuring ($preset)"
  cmake --preset "$preset" -S "$VALISE_ROOT" "$@" >/dev/null
  log "building ($preset)"
  cmake --build --preset "$preset" --parallel "$(nproc)"
}
