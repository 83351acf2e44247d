# Sourced by the install scripts: `missing_packages NAME...` sets MISSING to those not installed;
# `install_packages WHO` installs MISSING with apt (as root, or through sudo), or says all are present.

missing_packages() {
  MISSING=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || MISSING+=("$p")
  done
}

install_packages() {
  if ((${#MISSING[@]})); then
    echo "$1: installing ${MISSING[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${MISSING[@]}"
  else
    echo "$1: all packages present"
  fi
}
