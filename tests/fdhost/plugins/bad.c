/*
 * fdhost test plugin with one defect per build (selected by a -D define):
 * BAD_MAGIC, BAD_VERSION, BAD_LICENSE, BAD_SIZE, NO_UNLOAD, LOAD_FAILS, or
 * LICENSE_LOWER (a lower-case "agplv3", which the core accepts).
 * unloadPlugin appends "unloadPlugin <defect>" to $FDHOST_TEST_TRACE.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fdplugin.h"

#if defined(BAD_MAGIC)
#define DEFECT "badmagic"
#elif defined(BAD_VERSION)
#define DEFECT "badversion"
#elif defined(BAD_LICENSE)
#define DEFECT "badlicense"
#elif defined(BAD_SIZE)
#define DEFECT "badsize"
#elif defined(NO_UNLOAD)
#define DEFECT "nounload"
#elif defined(LOAD_FAILS)
#define DEFECT "loadfails"
#else
#define DEFECT "lowerlic"
#endif

static bRC ok(PluginContext* ctx) { return bRC_OK; }
static bRC value(PluginContext* ctx, int var, void* v) { return bRC_OK; }
static bRC event(PluginContext* ctx, bEvent* e, void* v) { return bRC_OK; }
static bRC sbf(PluginContext* ctx, struct save_pkt* sp) { return bRC_Stop; }
static bRC srf(PluginContext* ctx, const char* cmd) { return bRC_OK; }
static bRC io(PluginContext* ctx, struct io_pkt* io) { return bRC_Error; }
static bRC rp(PluginContext* ctx, struct restore_pkt* rp) { return bRC_OK; }

static PluginInformation info = {
#ifdef BAD_SIZE
    sizeof(PluginInformation) - 8,
#else
    sizeof(PluginInformation),
#endif
#ifdef BAD_VERSION
    9,
#else
    10,
#endif
#ifdef BAD_MAGIC
    "*DirPluginData*",
#else
    "*FDPluginData*",
#endif
#if defined(BAD_LICENSE)
    "GPLv2",
#elif defined(LICENSE_LOWER)
    "agplv3",
#else
    "AGPLv3",
#endif
    "fdhost tests", "2026", "1", "defective test plugin", NULL};

static PluginFunctions funcs = {sizeof(PluginFunctions), 10, ok, ok, value, value, event, sbf,
                                ok, srf, ok, io, rp, rp, NULL, NULL, NULL, NULL, NULL};

bRC loadPlugin(PluginApiDefinition* core_info, CoreFunctions* core_funcs,
               PluginInformation** out_info, PluginFunctions** out_funcs)
{
#ifdef LOAD_FAILS
  return bRC_Error;
#endif
  *out_info = &info;
  *out_funcs = &funcs;
  return bRC_OK;
}

#ifndef NO_UNLOAD
bRC unloadPlugin(void)
{
  const char* path = getenv("FDHOST_TEST_TRACE");
  FILE* f = path ? fopen(path, "a") : NULL;
  if (f) {
    fprintf(f, "unloadPlugin %s\n", DEFECT);
    fclose(f);
  }
  return bRC_OK;
}
#endif
