/*
 * NAME
 *	zproctitle - set what ps(1) and /proc/PID/cmdline show
 * SUMMARY
 *	Reuses the contiguous argv+environ string area for a status title.
 * SYNOPSIS
 *	void zproctitle_init(int argc, char **argv);
 *	void zproctitle_set(const char *fmt, ...);
 * DESCRIPTION
 *	zproctitle_init copies every environment string and the argv strings
 *	to the heap, points environ and argv[] at the copies, and remembers
 *	the original area (argv[0] up to the end of the last string that
 *	directly follows it).  zproctitle_set writes "prog: text" there,
 *	NUL-padding the rest so /proc/PID/cmdline shows only the title, and
 *	also sets the thread name (prctl PR_SET_NAME, 15 bytes).
 *	Without a prior zproctitle_init, zproctitle_set only sets the thread
 *	name.
 * DIAGNOSTICS
 *	None; a failed allocation in init leaves the title unchangeable.
 * SECURITY
 *	Writes only inside the area measured at init.  Title text may come
 *	from outside (host names); non-printable bytes become '?'.  It must
 *	never write past the argv/environ area measured at init.
 * BUGS
 *	Leaks the copies of environ (they live as long as the process).
 *	Titles longer than the original area are cut.
 * SEE ALSO
 *	prctl(2), proc(5)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include "zbuf.h"
#include "zutil.h"

extern char **environ;

static char *zpt_start;   /* original argv[0] */
static size_t zpt_size;   /* bytes usable */
static char zpt_prog[64] = "zmta";

/* zproctitle_init - move environ and argv strings off the title area */
void zproctitle_init(int argc, char **argv)
{
	char *orig, *end;
	char **newenv;
	size_t nenv = 0;
	const char *base;

	if (argc <= 0 || argv == NULL || argv[0] == NULL || zpt_start != NULL)
		return;
	orig = argv[0];
	base = strrchr(orig, '/');
	zstrlcpy(zpt_prog, base ? base + 1 : orig, sizeof(zpt_prog));

	end = orig + strlen(orig) + 1;
	for (int i = 1; i < argc && argv[i] != NULL; i++)
		if (argv[i] == end)
			end = argv[i] + strlen(argv[i]) + 1;
	if (environ != NULL) {
		for (; environ[nenv] != NULL; nenv++)
			if (environ[nenv] == end)
				end = environ[nenv] + strlen(environ[nenv]) + 1;
	}
	newenv = calloc(nenv + 1, sizeof(*newenv));
	if (newenv == NULL)
		return;
	for (size_t i = 0; i < nenv; i++) {
		newenv[i] = strdup(environ[i]);
		if (newenv[i] == NULL) {
			for (size_t k = 0; k < i; k++)
				free(newenv[k]);
			free(newenv);
			return;
		}
	}
	for (int i = 0; i < argc && argv[i] != NULL; i++) {
		char *d = strdup(argv[i]);
		if (d == NULL)
			return; /* title stays disabled; nothing was overwritten */
		argv[i] = d;
	}
	environ = newenv;
	{
		char *pn = strdup(program_invocation_name ? program_invocation_name : zpt_prog);
		if (pn != NULL) {
			program_invocation_name = pn;
			base = strrchr(pn, '/');
			program_invocation_short_name = base ? (char *)base + 1 : pn;
		}
	}
	zpt_start = orig;
	zpt_size = (size_t)(end - orig);
}

/* zproctitle_set - what ps shows (prefixed "progname: ") */
void zproctitle_set(const char *fmt, ...)
{
	char title[512];
	char name[16];
	va_list ap;
	int n;
	size_t len;

	n = snprintf(title, sizeof(title), "%s: ", zpt_prog);
	if (n < 0 || (size_t)n >= sizeof(title))
		return;
	va_start(ap, fmt);
	vsnprintf(title + n, sizeof(title) - (size_t)n, fmt, ap);
	va_end(ap);
	len = strlen(title);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)title[i] < 0x20 || (unsigned char)title[i] > 0x7e)
			title[i] = '?';
	zstrlcpy(name, title + (size_t)n, sizeof(name));
	if (name[0] != '\0')
		prctl(PR_SET_NAME, (unsigned long)name, 0ul, 0ul, 0ul);
	if (zpt_start == NULL || zpt_size < 2)
		return;
	if (len > zpt_size - 1)
		len = zpt_size - 1;
	memcpy(zpt_start, title, len);
	memset(zpt_start + len, '\0', zpt_size - len);
}
