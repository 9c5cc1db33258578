/*
 * NAME
 *	sconf_dump - the effective scheduler configuration as text
 * SUMMARY
 *	Writes every PARAM and every clause with its effective settings
 *	(defaults overlaid, built-in defaults applied), for "scheduler -C"
 *	and for tests.
 * SYNOPSIS
 *	#include "sconf.h"
 *	int sconf_dump(const sconf *cfg, zbuf *out);
 * DESCRIPTION
 *	The output is scheduler.conf-like: PARAM lines, the defaults
 *	clause as "*" + "/" + "*" marked never matched, then each clause
 *	with its selector and source line, one setting a line, times in
 *	zinterval_format form ("1h30m").  Unset optional values are shown
 *	as comments.
 * DIAGNOSTICS
 *	Z_ERR when cfg is NULL, else Z_OK (see BUGS).
 * SECURITY
 *	Prints configuration values as they are; out is a bounded zbuf.
 * BUGS
 *	A full out truncates the dump without an error: only the last
 *	clause's expiryform line is checked.  The output is for people; it
 *	is not promised to parse back to the same configuration.
 * SEE ALSO
 *	sconf.c, scheduler(8) -C
 */
#include "sconf_int.h"
#include "zutil.h"

/* sc_dump_time - "3600 (1h)" */
static int sc_dump_time(zbuf *out, const char *kw, long secs)
{
	char b[64];

	if (zinterval_format(secs, b, sizeof b) != Z_OK)
		b[0] = '\0';
	return zbuf_printf(out, "\t%s=%s\n", kw, b);
}

/* sc_dump_clause - one clause's effective settings */
static int sc_dump_clause(zbuf *out, const char *sel, int line, const sconf_clause *c)
{
	int rc = Z_OK;

	if (line > 0)
		zbuf_printf(out, "%s\t# line %d\n", sel, line);
	else
		zbuf_printf(out, "%s\n", sel);
	sc_dump_time(out, "interval", c->interval);
	if (c->nretries > 0) {
		zbuf_puts(out, "\tretries=\"");
		for (int i = 0; i < c->nretries; i++)
			zbuf_printf(out, "%s%ld", i ? " " : "", c->retries[i]);
		zbuf_puts(out, "\"\n");
	} else {
		zbuf_puts(out, "\t# retries: none (one interval per retry)\n");
	}
	if (c->expiry > 0) {
		sc_dump_time(out, "expiry", c->expiry);
		sc_dump_time(out, "expiry2", c->expiry2);
	} else {
		zbuf_puts(out, "\t# expiry: off\n");
	}
	sc_dump_time(out, "idlemax", c->idlemax);
	zbuf_printf(out, "\tmaxta=%d maxchannel=%d maxring=%d maxthr=%d overfeed=%d skew=%d\n",
		    c->maxta, c->maxchannel, c->maxring, c->maxthr, c->overfeed, c->skew);
	if (c->command != NULL) {
		zbuf_puts(out, "\tcommand=\"");
		for (const char *p = c->command; *p; p++) {
			if (*p == '"' || *p == '\\')
				zbuf_putc(out, '\\');
			zbuf_putc(out, *p);
		}
		zbuf_printf(out, "\"%s\n", (c->flags & SCF_WITHHOST) ? "\t# with-host" : "");
	} else {
		zbuf_puts(out, "\t# command: none (threads cannot start)\n");
	}
	if (c->user != NULL)
		zbuf_printf(out, "\tuser=%s\n", c->user);
	if (c->group != NULL)
		zbuf_printf(out, "\tgroup=%s\n", c->group);
	if (c->has_priority)
		zbuf_printf(out, "\tpriority=%d\n", c->priority);
	if (c->nice != 0)
		zbuf_printf(out, "\tnice=%d\n", c->nice);
	if (c->flags & SCF_QUEUEONLY)
		zbuf_puts(out, "\tqueueonly\n");
	if (c->flags & SCF_WAKEUPRESTARTONLY)
		zbuf_puts(out, "\twakeuprestartonly\n");
	if (c->flags & SCF_AGEORDER)
		zbuf_puts(out, "\tageorder\n");
	if (c->flags & SCF_BYCHANNEL)
		zbuf_puts(out, "\tbychannel\n");
	if (c->nreporttimes > 0) {
		zbuf_puts(out, "\treporttimes=\"");
		for (int i = 0; i < c->nreporttimes; i++) {
			char b[64];
			if (zinterval_format(c->reporttimes[i], b, sizeof b) != Z_OK)
				b[0] = '\0';
			zbuf_printf(out, "%s%s", i ? " " : "", b);
		}
		zbuf_puts(out, "\"\n");
	}
	if (c->deliveryform != NULL)
		zbuf_printf(out, "\tdeliveryform=\"%s\"\n", c->deliveryform);
	if (c->expiryform != NULL)
		rc = zbuf_printf(out, "\texpiryform=\"%s\"\n", c->expiryform);
	return rc;
}

/* sc_dump_opt - "PARAMname = value" or a comment when unset */
static void sc_dump_opt(zbuf *out, const char *name, const char *v)
{
	if (v != NULL)
		zbuf_printf(out, "PARAM%s = \"%s\"\n", name, v);
	else
		zbuf_printf(out, "# PARAM%s unset\n", name);
}

/* sconf_dump - print the effective configuration */
int sconf_dump(const sconf *cfg, zbuf *out)
{
	if (cfg == NULL)
		return Z_ERR;
	zbuf_printf(out, "# effective scheduler configuration from %s\n", cfg->name);
	sc_dump_opt(out, "authfile", cfg->authfile);
	sc_dump_opt(out, "mailqsock", cfg->mailqsock);
	sc_dump_opt(out, "notifysock", cfg->notifysock);
	zbuf_printf(out, "PARAMglobal-report-interval = %ld\n", cfg->global_report_interval);
	zbuf_printf(out, "PARAMmsgwriteasync = %d\n", cfg->msgwriteasync);
	zbuf_printf(out, "PARAMstore-error-on-error = %d\n", cfg->store_error_on_error);
	zbuf_printf(out, "PARAMdelay-warning = %ld\n", cfg->delay_warning);
	zbuf_printf(out, "PARAMmax-ta-silence = %ld\n", cfg->max_ta_silence);
	zbuf_printf(out, "PARAMmax-ta-comments = %ld\n", cfg->max_ta_comments);
	zbuf_printf(out, "PARAMfork-rate = %d\n", cfg->fork_rate);
	zbuf_printf(out, "PARAMexpire-sweep = %ld\n", cfg->expire_sweep);
	zbuf_printf(out, "PARAMmailq-timeout = %ld\n", cfg->mailq_timeout);
	sc_dump_opt(out, "mailq-admins", cfg->mailq_admins);
	zbuf_printf(out, "PARAMmailq-auth-timeout = %ld\n", cfg->mailq_auth_timeout);
	zbuf_printf(out, "PARAMmailq-auth-failures = %ld\n", cfg->mailq_auth_failures);
	zbuf_printf(out, "PARAMretryat-max = %ld\n", cfg->retryat_max);
	if (cfg->has_syspriority)
		zbuf_printf(out, "# syspriority=%d\n", cfg->syspriority);
	if (cfg->has_sysnice)
		zbuf_printf(out, "# sysnice=%d\n", cfg->sysnice);
	zbuf_puts(out, "# defaults (never matched)\n");
	sc_dump_clause(out, "*/*", 0, cfg->defaults);
	zbuf_printf(out, "# %zu clauses, first match wins\n", cfg->nclauses);
	int rc = Z_OK;
	for (size_t i = 0; i < cfg->nclauses; i++)
		rc = sc_dump_clause(out, cfg->clauses[i]->selector, cfg->clauses[i]->line,
				    cfg->clauses[i]);
	return rc;
}
