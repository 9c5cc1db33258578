# bench/local.mk - benchmarks run by `make bench` (not by make check).
# Each benchmark is a script bench/<name>.sh; bench/run-all.sh runs them.
# (Do not name a variable *_SCRIPTS here: automake takes that as an install primary.)
EXTRA_DIST += bench/run-all.sh bench/benchlib.sh
# smtpd-accept.sh: smtpserver vs a private Postfix smtpd, acceptance only
# (needs smtpserver/smtpserver and zmtactl/zmta, both built by `all`)
EXTRA_DIST += bench/smtpd-accept.sh
