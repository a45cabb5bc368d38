/*
 * v4host test plugin in C (interface version 4), built once per daemon and
 * defect by build.rs: -DSD_PLUGIN selects the storage daemon (else the
 * director); BAD_MAGIC, BAD_VERSION, BAD_LICENSE, BAD_SIZE each break one
 * compatibility check. The good build reports every call as an info job
 * message starting with "cplugin", and is steered by the option string it
 * receives with NewPluginOptions (substring tests, so keep names unique):
 *   dump      GetValue of every variable at every event, printed typed
 *   ret=N     return N from every later event
 *   fatal=N   M_FATAL job message at event N
 *   oob       register event 16 (out of the director's bounds)
 *   setvol=S  SetValue VolumeName=S, Priority=7, JobLevel='D' at the next event
 *   helper    call the storage daemon's EditDeviceCodes helper
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int bRC;
typedef int64_t utime_t;
typedef struct {
  uint32_t instance;
  void* plugin;
  void* core_private_context;
  void* plugin_private_context;
} PluginContext;
typedef struct {
  uint32_t size, version;
} PluginApiDefinition;
typedef struct {
  uint32_t size, version;
  bRC (*registerBareosEvents)(PluginContext*, int, ...);
  bRC (*unregisterBareosEvents)(PluginContext*, int, ...);
  bRC (*getInstanceCount)(PluginContext*, int*);
  bRC (*getBareosValue)(PluginContext*, int, void*);
  bRC (*setBareosValue)(PluginContext*, int, void*);
  bRC (*JobMessage)(PluginContext*, const char*, int, int, utime_t, const char*, ...);
  bRC (*DebugMessage)(PluginContext*, const char*, int, int, const char*, ...);
  /* storage daemon only */
  char* (*EditDeviceCodes)(void*, char**, const char*, const char*);
  void* more[6];
} CoreFunctions;
typedef struct {
  uint32_t size, version;
  const char *magic, *license, *author, *date, *version_s, *description, *usage;
} PluginInformation;
typedef struct {
  uint32_t eventType;
} bEvent;
typedef struct {
  uint32_t size, version;
  bRC (*newPlugin)(PluginContext*);
  bRC (*freePlugin)(PluginContext*);
  bRC (*getPluginValue)(PluginContext*, int, void*);
  bRC (*setPluginValue)(PluginContext*, int, void*);
  bRC (*handlePluginEvent)(PluginContext*, bEvent*, void*);
} PluginFunctions;

#define M_FATAL 3
#define M_INFO 6

#ifdef SD_PLUGIN
#define MAGIC "*SDPluginData*"
#define NR_EVENTS 24
#define OPTIONS_EVENT 22
#define NR_VARS 16
/* 's' char*, 'i' int, 'u' uint64_t */
static const char types[] = "xsiiissssssisiius";
#else
#define MAGIC "*DirPluginData*"
#define NR_EVENTS 11
#define OPTIONS_EVENT 11
#define NR_VARS 27
static const char types[] = "xsiiisisssssssiisxiiiiiisiuu";
#endif

static CoreFunctions* core;

struct state {
  char opts[512];
  int ret;
  int fatal;
  int setvol_done;
};

#define INFO(ctx, ...) core->JobMessage(ctx, __FILE__, __LINE__, M_INFO, 0, __VA_ARGS__)

static bRC new_plugin(PluginContext* ctx)
{
  struct state* s = calloc(1, sizeof *s);
  ctx->plugin_private_context = s;
  for (int e = 1; e <= NR_EVENTS; e++) core->registerBareosEvents(ctx, 1, e);
  int count = -1;
  core->getInstanceCount(ctx, &count);
  INFO(ctx, "cplugin newPlugin instance=%u count=%d\n", ctx->instance, count);
  core->DebugMessage(ctx, __FILE__, __LINE__, 10, "cplugin debug instance=%u\n", ctx->instance);
  return 0;
}

static bRC free_plugin(PluginContext* ctx)
{
  INFO(ctx, "cplugin freePlugin instance=%u\n", ctx->instance);
  free(ctx->plugin_private_context);
  return 0;
}

static bRC plugin_value(PluginContext* ctx, int var, void* v) { return 0; }

static void dump(PluginContext* ctx)
{
  for (int var = 1; var <= NR_VARS; var++) {
    union {
      char* s;
      int i;
      uint64_t u;
    } v;
    v.u = 0xdeadbeefdeadbeefull;
    bRC rc = core->getBareosValue(ctx, var, &v);
    switch (types[var]) {
      case 's':
        INFO(ctx, "cplugin var %d rc=%d str=%s\n", var, rc,
             rc == 0 && v.s ? v.s : (v.s ? "(untouched)" : "(null)"));
        break;
      case 'i':
        INFO(ctx, "cplugin var %d rc=%d int=%d\n", var, rc, v.i);
        break;
      case 'u':
        INFO(ctx, "cplugin var %d rc=%d u64=%llu\n", var, rc, (unsigned long long)v.u);
        break;
      default:
        INFO(ctx, "cplugin var %d rc=%d\n", var, rc);
    }
  }
}

static bRC handle_event(PluginContext* ctx, bEvent* e, void* value)
{
  struct state* s = ctx->plugin_private_context;
  int ev = (int)e->eventType;
  if (ev == OPTIONS_EVENT) {
    INFO(ctx, "cplugin event %d instance=%u options=%s\n", ev, ctx->instance,
         value ? (const char*)value : "(null)");
    if (value) {
      snprintf(s->opts, sizeof s->opts, "%s", (const char*)value);
      const char* p;
      if ((p = strstr(s->opts, "ret="))) s->ret = atoi(p + 4);
      if ((p = strstr(s->opts, "fatal="))) s->fatal = atoi(p + 6);
      if (strstr(s->opts, "oob")) {
        bRC rc = core->registerBareosEvents(ctx, 1, 16);
        INFO(ctx, "cplugin register 16 -> %d\n", rc);
      }
    }
    return 0;
  }
#ifdef SD_PLUGIN
  if (ev == 1) {
    INFO(ctx, "cplugin event %d instance=%u value=%s\n", ev, ctx->instance,
         value ? (const char*)value : "(null)");
  } else
#endif
    INFO(ctx, "cplugin event %d instance=%u value=%s\n", ev, ctx->instance,
         value ? "set" : "null");
  if (strstr(s->opts, "dump")) dump(ctx);
  const char* p = strstr(s->opts, "setvol=");
  if (p && !s->setvol_done) {
    char vol[128];
    snprintf(vol, sizeof vol, "%s", p + 7);
    char* colon = strchr(vol, ':');
    if (colon) *colon = 0;
    int prio = 7, level = 'D';
    bRC a = core->setBareosValue(ctx, 2, vol);
    bRC b = core->setBareosValue(ctx, 3, &prio);
    bRC c = core->setBareosValue(ctx, 4, &level);
    bRC d = core->setBareosValue(ctx, 99, &level);
    INFO(ctx, "cplugin setvalue %d %d %d %d\n", a, b, c, d);
    s->setvol_done = 1;
  }
#ifdef SD_PLUGIN
  if (strstr(s->opts, "helper")) {
    char* out = NULL;
    core->EditDeviceCodes(value, &out, "%v", "test");
  }
#endif
  if (s->fatal == ev) {
    core->JobMessage(ctx, __FILE__, __LINE__, M_FATAL, 0, "cplugin fatal at event %d\n", ev);
  }
  return s->ret;
}

static PluginInformation info = {
#ifdef BAD_SIZE
    sizeof(PluginInformation) - 8,
#else
    sizeof(PluginInformation),
#endif
#ifdef BAD_VERSION
    3,
#else
    4,
#endif
#ifdef BAD_MAGIC
    "*FDPluginData*",
#else
    MAGIC,
#endif
#ifdef BAD_LICENSE
    "GPLv2",
#else
    "agplv3",
#endif
    "v4host tests", "2026", "1", "v4host test plugin", "see v4plugin.c"};

static PluginFunctions funcs = {sizeof(PluginFunctions), 4, new_plugin, free_plugin,
                                plugin_value, plugin_value, handle_event};

bRC loadPlugin(PluginApiDefinition* api, CoreFunctions* core_funcs, PluginInformation** out_info,
               PluginFunctions** out_funcs)
{
  core = core_funcs;
  fprintf(stdout, "cplugin loadPlugin api.size=%u api.version=%u core.size=%u core.version=%u\n",
          api->size, api->version, core_funcs->size, core_funcs->version);
  fflush(stdout);
  *out_info = &info;
  *out_funcs = &funcs;
  return 0;
}

bRC unloadPlugin(void)
{
  fprintf(stdout, "cplugin unloadPlugin\n");
  fflush(stdout);
  return 0;
}
