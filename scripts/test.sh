#!/usr/bin/env bash
# Full check of egov-intake: installs the real mail servers the integration tests run (only what
# is missing), then cargo fmt --check, clippy with warnings denied, and every test.
#
# Meant to run as root on a fresh Debian machine (CI, via .ci/run). The tests start their own
# private Dovecot and Postfix instances on loopback (tests/support/mod.rs); nothing here
# configures or starts the system-wide services.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(dovecot-imapd dovecot-lmtpd postfix openssl openssh-client putty-tools)
# Owner of the test mail stores (Dovecot will not store mail as root); see tests/support/mod.rs.
MAIL_USER=egovtest

is_root() { [[ $(id -u) -eq 0 ]]; }

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

install_missing_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        echo "==> mail server packages already installed: ${PACKAGES[*]}"
        return
    fi
    if ! is_root; then
        echo "error: missing packages ${missing[*]}; run this script as root to install them" >&2
        exit 1
    fi
    echo "==> installing ${missing[*]}"
    apt-get update
    # "No configuration": no /etc/postfix/main.cf and no system mailer; the tests configure
    # their own instances.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    # Keep the packages from starting system-wide daemons (where an init system would let them).
    local policy=/usr/sbin/policy-rc.d
    local remove_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        remove_policy=1
    fi
    local status=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" || status=$?
    if ((remove_policy)); then
        rm -f "$policy"
    fi
    if ((status != 0)); then
        echo "error: apt-get install ${missing[*]} failed" >&2
        exit "$status"
    fi
}

ensure_mail_user() {
    if id -u "$MAIL_USER" >/dev/null 2>&1; then
        return
    fi
    if ! is_root; then
        echo "warning: user $MAIL_USER is missing (needs root to create); the tests fall back to nobody:nogroup" >&2
        return
    fi
    echo "==> creating system user $MAIL_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$MAIL_USER"
}

install_missing_packages
ensure_mail_user
if ! is_root; then
    echo "warning: not running as root; the mail-server integration tests will fail" >&2
fi

echo "==> cargo fmt --check"
cargo fmt --check

echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

echo "==> cargo test"
# A hung test must not eat the whole CI budget.
timeout --kill-after=30s 20m cargo test
