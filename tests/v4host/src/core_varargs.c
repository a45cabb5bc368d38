/*
 * The C-variadic core functions of the director's and the storage daemon's
 * CoreFunctions tables (dir-sd-api §2.1, §3.1): registerBareosEvents,
 * unregisterBareosEvents (int nr, ...), JobMessage and DebugMessage
 * (printf formats). Stable Rust cannot define variadic functions, so these
 * collect the arguments and forward to non-variadic Rust functions in
 * core.rs. Nothing else lives here.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct PluginContext PluginContext;
typedef int bRC;

/* Implemented in Rust (src/core.rs). */
bRC v4host_core_events(PluginContext* ctx, int set, int nr, int read, const uint32_t* events);
bRC v4host_core_job_message(PluginContext* ctx, const char* file, int line, int type,
                            int64_t mtime, const char* text);
bRC v4host_core_debug_message(PluginContext* ctx, const char* file, int line, int level,
                              const char* text);
int v4host_core_debug_wanted(int level);

/* More event numbers than this in one call are not read (the real cores read
 * them all; that many arguments would be a plugin bug anyway). */
#define MAX_EVENTS 256

static bRC events(PluginContext* ctx, int set, int nr, va_list ap)
{
  uint32_t ev[MAX_EVENTS];
  int n = nr < 0 ? 0 : (nr > MAX_EVENTS ? MAX_EVENTS : nr);
  for (int i = 0; i < n; i++) ev[i] = va_arg(ap, uint32_t);
  return v4host_core_events(ctx, set, nr, n, ev);
}

bRC v4host_registerBareosEvents(PluginContext* ctx, int nr, ...)
{
  va_list ap;
  va_start(ap, nr);
  bRC rc = events(ctx, 1, nr, ap);
  va_end(ap);
  return rc;
}

bRC v4host_unregisterBareosEvents(PluginContext* ctx, int nr, ...)
{
  va_list ap;
  va_start(ap, nr);
  bRC rc = events(ctx, 0, nr, ap);
  va_end(ap);
  return rc;
}

/* printf-format into buf (or a malloc'ed buffer if it does not fit; the
 * caller frees a result that differs from buf). NULL fmt gives NULL. */
static char* format(char* buf, size_t size, const char* fmt, va_list ap)
{
  if (!fmt) return NULL;
  va_list again;
  va_copy(again, ap);
  int len = vsnprintf(buf, size, fmt, ap);
  char* out = buf;
  if (len < 0) {
    buf[0] = '\0';
  } else if ((size_t)len >= size) {
    char* big = malloc((size_t)len + 1);
    if (big) {
      vsnprintf(big, (size_t)len + 1, fmt, again);
      out = big;
    } /* else: keep the truncated text */
  }
  va_end(again);
  return out;
}

bRC v4host_JobMessage(PluginContext* ctx, const char* file, int line, int type, int64_t mtime,
                      const char* fmt, ...)
{
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  char* text = format(buf, sizeof buf, fmt, ap);
  va_end(ap);
  bRC rc = v4host_core_job_message(ctx, file, line, type, mtime, text);
  if (text && text != buf) free(text);
  return rc;
}

bRC v4host_DebugMessage(PluginContext* ctx, const char* file, int line, int level,
                        const char* fmt, ...)
{
  if (!v4host_core_debug_wanted(level)) return 0;
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  char* text = format(buf, sizeof buf, fmt, ap);
  va_end(ap);
  bRC rc = v4host_core_debug_message(ctx, file, line, level, text);
  if (text && text != buf) free(text);
  return rc;
}
