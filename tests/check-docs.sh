#!/bin/sh
# check-docs: the documentation cannot drift from the code (STYLE.md 19-20).
# Fails when
#   - a key of the configuration table (the first column of `-t`) has no
#     ".It Ic key" item in socket-gateway.conf(5) or no "# key default" line
#     in etc/socket-gateway.conf, or the page documents a key that is gone;
#   - a long option of --help is missing from socket-gatewayd(8), or the page
#     documents an option that is gone;
#   - an environment variable of the table is missing from either page or
#     from etc/env.example;
#   - `mandoc -T lint` reports a WARNING or worse on either page;
#   - the shipped etc/socket-gateway.conf or etc/env.example does not pass
#     `-t`, or the shipped configuration changes a default.
# Environment: srcdir (set by automake), SGWD (the daemon to run, default
# ./socket-gatewayd).
LC_ALL=C
export LC_ALL
srcdir=${srcdir:-.}
SGWD=${SGWD:-./socket-gatewayd}
man8=$srcdir/man/socket-gatewayd.8.in
man5=$srcdir/man/socket-gateway.conf.5.in
conf=$srcdir/etc/socket-gateway.conf
envex=$srcdir/etc/env.example
table=$srcdir/src/process/conf_table.c

fails=0
fail() {
	echo "check-docs: FAIL: $*" >&2
	fails=$((fails + 1))
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-docs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

if [ ! -x "$SGWD" ]; then
	echo "check-docs: $SGWD is not an executable; set SGWD" >&2
	exit 1
fi
for f in "$man8" "$man5" "$conf" "$envex" "$table"; do
	[ -f "$f" ] || { echo "check-docs: $f is missing" >&2; exit 1; }
done

# Nothing from the caller's environment may change what -t prints.
unset PORT JWT_SECRET AUTH_SERVICE_URL CHAT_SERVICE_URL PRESENCE_ENGINE_URL \
    AI_ENGINE_URL QUANTUM_ROOM_ENGINE_URL LOG_LEVEL CORS_ORIGIN REDIS_URL \
    NODE_ENV

# The keys, from the daemon itself.
if ! JWT_SECRET=x0123456789abcdef0123456789abcdef "$SGWD" -t -c /dev/null >"$tmp/defaults" 2>"$tmp/err"; then
	cat "$tmp/err" >&2
	echo "check-docs: $SGWD -t -c /dev/null failed" >&2
	exit 1
fi
awk '{ print $1 }' "$tmp/defaults" | sort -u >"$tmp/keys"
nkeys=$(wc -l <"$tmp/keys")
if [ "$nkeys" -lt 1 ]; then
	echo "check-docs: $SGWD -t printed no keys" >&2
	exit 1
fi
while read -r key; do
	grep -Eq "^\.It Ic $key( |\$)" "$man5" ||
	    fail "key '$key' has no '.It Ic $key' in $man5"
	grep -Eq "^# $key( |\$)" "$conf" ||
	    fail "key '$key' has no '# $key <default>' line in $conf"
done <"$tmp/keys"
sed -n 's/^\.It Ic \([a-z_0-9]*\).*/\1/p' "$man5" | sort -u >"$tmp/documented"
for key in $(comm -13 "$tmp/keys" "$tmp/documented"); do
	fail "$man5 documents '$key', which is not a key"
done
echo "check-docs: $nkeys keys documented in $man5 and $conf"

# The long options, from --help.
if ! "$SGWD" --help >"$tmp/help" 2>&1; then
	echo "check-docs: $SGWD --help failed" >&2
	exit 1
fi
tr -s ' \t,' '\n\n\n' <"$tmp/help" | grep -E '^--[a-z][a-z-]*$' |
    sort -u >"$tmp/flags"
nflags=$(wc -l <"$tmp/flags")
[ "$nflags" -ge 1 ] || fail "$SGWD --help lists no long option"
# mdoc writes "--config" as "Fl \-config" (Fl adds one dash); drop the
# backslashes.
sed 's/\\//g' "$man8" >"$tmp/man8"
while read -r flag; do
	grep -Eq "Fl ${flag#-}( |\$)" "$tmp/man8" ||
	    fail "option '$flag' of --help is not in $man8"
done <"$tmp/flags"
sed -n 's/.*Fl -\([a-z][a-z-]*\).*/--\1/p' "$tmp/man8" | sort -u \
    >"$tmp/documented"
for flag in $(comm -13 "$tmp/flags" "$tmp/documented"); do
	fail "$man8 documents '$flag', which --help does not list"
done
echo "check-docs: $nflags long options documented in $man8"

# The environment variables: the .env column of the table, plus NODE_ENV.
{
	sed -n 's/.*"\([A-Z][A-Z_]*\)",.*/\1/p' "$table"
	echo NODE_ENV
} | sort -u >"$tmp/env"
nenv=$(wc -l <"$tmp/env")
while read -r var; do
	for page in "$man8" "$man5"; do
		grep -Eq "Ev $var( |\$)" "$page" ||
		    fail "variable $var is not in $page"
	done
	grep -Eq "^(# )?$var=" "$envex" || fail "variable $var is not in $envex"
done <"$tmp/env"
echo "check-docs: $nenv environment variables in both pages and $envex"

# mandoc -T lint on the pages as they will be installed.
if command -v mandoc >/dev/null 2>&1; then
	for page in "$man8" "$man5"; do
		out=$tmp/$(basename "$page" .in)
		sed -e 's|@SYSCONFDIR@|/etc|g' -e 's|@RUNSTATEDIR@|/run|g' \
		    -e 's|@LOCALSTATEDIR@|/var|g' -e 's|@SBINDIR@|/usr/sbin|g' \
		    -e 's|@VERSION@|0.0|g' "$page" >"$out"
		if grep -n '@[A-Z]*@' "$out" >&2; then
			fail "$page has a placeholder the build does not fill"
		fi
		if ! mandoc -T lint -W warning "$out" >"$tmp/lint" 2>&1 ||
		    [ -s "$tmp/lint" ]; then
			sed "s|$out|$page|g" "$tmp/lint" >&2
			fail "mandoc -T lint reports problems in $page"
		fi
	done
	echo "check-docs: mandoc -T lint -W warning: both pages clean"
else
	echo "check-docs: mandoc is not installed; lint not run"
fi

# The shipped files pass -t, and the configuration changes no default.
if JWT_SECRET=x0123456789abcdef0123456789abcdef "$SGWD" -t -c "$conf" >"$tmp/shipped" 2>"$tmp/err"; then
	if cmp -s "$tmp/defaults" "$tmp/shipped"; then
		echo "check-docs: $conf passes -t and changes no default"
	else
		diff "$tmp/defaults" "$tmp/shipped" >&2
		fail "$conf sets something: every key should be commented out"
	fi
else
	cat "$tmp/err" >&2
	fail "$SGWD -t -c $conf failed"
fi
if "$SGWD" -t -c /dev/null -e "$envex" >/dev/null 2>"$tmp/err"; then
	echo "check-docs: $envex passes -t -e"
else
	cat "$tmp/err" >&2
	fail "$SGWD -t -e $envex failed"
fi

if [ "$fails" -ne 0 ]; then
	echo "check-docs: $fails problem(s)" >&2
	exit 1
fi
exit 0
