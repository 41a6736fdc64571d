#!/bin/sh
# `make run`: serves Keystile on 127.0.0.1:8080 with the SQLite database
# keystile.db in the current folder. On the first run it creates the account
# `demo` and prints its Owner key and token once: copy the token then.
set -eu
BIN=${KEYSTILE_BIN:-build/keystile}
DB=${KEYSTILE_DB:-keystile.db}
LISTEN=${KEYSTILE_LISTEN:-127.0.0.1:8080}
if [ ! -f "$DB" ]; then
    echo "First run: creating account 'demo'. Its Owner key and token (shown once, store the token now):"
    "$BIN" account create demo --db "$DB"
    echo
fi
echo "Serving http://$LISTEN (database $DB). Stop with Ctrl-C."
exec "$BIN" serve --db "$DB" --listen "$LISTEN"
