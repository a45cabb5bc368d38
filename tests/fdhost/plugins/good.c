/*
 * fdhost test plugin "good": a command plugin that backs up generated files
 * (read through pluginIO IO_READ, and one real file handed to the core with
 * iostat do_io_in_core) and restores them (IO_WRITE, resp. an in-core
 * descriptor). Every call is appended to the file named by the environment
 * variable FDHOST_TEST_TRACE, so tests can check the core's call order.
 *
 * Plugin string: good[:incore=<path>][:bigsize=<n>][:restore_core=1]
 *                    [:badtype=1][:startfail=1][:fatal=<text>][:warn=<text>]
 *
 * Everything but loadPlugin/unloadPlugin is static: fdhost loads plugins
 * RTLD_GLOBAL, and tests load two copies of this object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdplugin.h"

static CoreFunctions* core;

static void trace(const char* fmt, ...)
{
  const char* path = getenv("FDHOST_TEST_TRACE");
  if (!path) return;
  FILE* f = fopen(path, "a");
  if (!f) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

struct inst {
  int idx;
  char incore[1024];
  long bigsize;
  int restore_core;
  int badtype;
  int startfail;
  char fatal[256];
  char warn[256];
  int abuse;
  /* backup data source of the current file: 0 text, 1 pattern */
  int kind;
  const char* text;
  long size;
  long off;
  int fd;
  char fname[1024];
  char link[1024];
};

static const char* small_text = "hello world\n";

static struct inst* I(PluginContext* ctx) { return (struct inst*)ctx->plugin_private_context; }

static void parse(struct inst* p, const char* cmd)
{
  const char* s = strchr(cmd, ':');
  while (s) {
    s++;
    const char* end = strchr(s, ':');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    char item[1200];
    if (len >= sizeof item) len = sizeof item - 1;
    memcpy(item, s, len);
    item[len] = 0;
    char* eq = strchr(item, '=');
    if (eq) {
      *eq = 0;
      const char* v = eq + 1;
      if (!strcmp(item, "incore")) snprintf(p->incore, sizeof p->incore, "%s", v);
      else if (!strcmp(item, "bigsize")) p->bigsize = atol(v);
      else if (!strcmp(item, "restore_core")) p->restore_core = atoi(v);
      else if (!strcmp(item, "badtype")) p->badtype = atoi(v);
      else if (!strcmp(item, "startfail")) p->startfail = atoi(v);
      else if (!strcmp(item, "fatal")) snprintf(p->fatal, sizeof p->fatal, "%s", v);
      else if (!strcmp(item, "warn")) snprintf(p->warn, sizeof p->warn, "%s", v);
      else if (!strcmp(item, "abuse")) p->abuse = atoi(v);
    }
    s = end;
  }
}

static bRC newPlugin(PluginContext* ctx)
{
  struct inst* p = calloc(1, sizeof *p);
  if (!p) return bRC_Error;
  p->bigsize = 300001;
  p->fd = -1;
  ctx->plugin_private_context = p;
  int jobid = 0, level = 0, type = 0;
  char* fdname = NULL;
  char* jobname = NULL;
  core->getBareosValue(ctx, bVarJobId, &jobid);
  core->getBareosValue(ctx, bVarLevel, &level);
  core->getBareosValue(ctx, bVarType, &type);
  core->getBareosValue(ctx, bVarFDName, &fdname);
  core->getBareosValue(ctx, bVarJobName, &jobname);
  bool cc = false;
  core->getBareosValue(ctx, bVarCheckChanges, &cc);
  trace("newPlugin jobid=%d level=%c type=%c fdname=%s jobname=%s checkchanges=%d", jobid,
        level, type, fdname ? fdname : "(null)", jobname ? "set" : "(null)", cc);
  core->registerBareosEvents(ctx, 13, bEventJobStart, bEventJobEnd, bEventStartBackupJob,
                             bEventEndBackupJob, bEventStartRestoreJob, bEventEndRestoreJob,
                             bEventBackupCommand, bEventRestoreCommand, bEventEstimateCommand,
                             bEventLevel, bEventSince, bEventRestoreObject, bEventEndFileSet);
  core->registerBareosEvents(ctx, 1, bEventPluginCommand);
  core->DebugMessage(ctx, __FILE__, __LINE__, 100, "good: newPlugin jobid=%d\n", jobid);
  return bRC_OK;
}

static bRC freePlugin(PluginContext* ctx)
{
  trace("freePlugin");
  free(ctx->plugin_private_context);
  ctx->plugin_private_context = NULL;
  return bRC_OK;
}

static bRC getPluginValue(PluginContext* ctx, int var, void* value) { return bRC_OK; }
static bRC setPluginValue(PluginContext* ctx, int var, void* value) { return bRC_OK; }

/* Call every core function with NULL / bogus contexts and NULL arguments;
 * trace the answers. fdhost must neither crash nor accept them. */
static void abuse(PluginContext* ctx)
{
  PluginContext bogus = {0, (void*)8, (void*)16, NULL};
  PluginContext* bad[2] = {NULL, &bogus};
  int n;
  void* v;
  struct save_pkt sp;
  memset(&sp, 0, sizeof sp);
  for (int i = 0; i < 2; i++) {
    PluginContext* c = bad[i];
    trace("abuse ctx%d register=%d unregister=%d count=%d get=%d getfd=%d set=%d", i,
          core->registerBareosEvents(c, 1, bEventJobEnd),
          core->unregisterBareosEvents(c, 1, bEventJobEnd), core->getInstanceCount(c, &n),
          core->getBareosValue(c, bVarJobId, &n), core->getBareosValue(c, bVarFDName, &v),
          core->setBareosValue(c, bVarCheckChanges, &n));
    trace("abuse ctx%d excl=%d incl=%d opts=%d regex=%d wild=%d newopt=%d newinc=%d newpre=%d",
          i, core->AddExclude(c, "/x"), core->AddInclude(c, "/x"), core->AddOptions(c, "x"),
          core->AddRegex(c, "x", 0), core->AddWild(c, "x", 0), core->NewOptions(c),
          core->NewInclude(c), core->NewPreInclude(c));
    trace("abuse ctx%d check=%d accept=%d setseen=%d clearseen=%d msg=%d dbg=%d", i,
          core->checkChanges(c, &sp), core->AcceptFile(c, &sp),
          core->SetSeenBitmap(c, true, NULL), core->ClearSeenBitmap(c, true, NULL),
          core->JobMessage(c, __FILE__, __LINE__, M_INFO, 0, "abuse: daemon message %d\n", i),
          core->DebugMessage(c, __FILE__, __LINE__, 1, "abuse %s", "debug"));
  }
  /* A valid ctx with NULL arguments. */
  trace("abuse nullargs count=%d get=%d set=%d excl=%d check=%d accept=%d seen=%d",
        core->getInstanceCount(ctx, NULL), core->getBareosValue(ctx, bVarJobId, NULL),
        core->setBareosValue(ctx, bVarCheckChanges, NULL), core->AddExclude(ctx, NULL),
        core->checkChanges(ctx, NULL), core->AcceptFile(ctx, NULL),
        core->SetSeenBitmap(ctx, false, NULL));
  core->JobMessage(ctx, NULL, 0, M_INFO, 0, NULL);
  core->DebugMessage(ctx, NULL, 0, 1, NULL);
  int count_rc = core->getInstanceCount(ctx, &n);
  int excl_rc = core->AddExclude(ctx, "/good/dir/empty");
  sp.fname = "/good/dir/empty";
  int accept_rc = core->AcceptFile(ctx, &sp);
  trace("abuse valid count=%d excl=%d accept=%d", count_rc, excl_rc, accept_rc);
  trace("abuse count=%d", n);
  core->bareosFree(ctx, __FILE__, __LINE__, core->bareosMalloc(ctx, __FILE__, __LINE__, 100));
}

static bRC handlePluginEvent(PluginContext* ctx, bEvent* event, void* value)
{
  struct inst* p = I(ctx);
  switch (event->eventType) {
    case bEventLevel:
      trace("event %u %c", event->eventType, (int)(intptr_t)value);
      break;
    case bEventSince:
      trace("event %u %ld", event->eventType, (long)(intptr_t)value);
      break;
    case bEventJobStart:
    case bEventBackupCommand:
    case bEventRestoreCommand:
    case bEventEstimateCommand:
    case bEventPluginCommand:
      trace("event %u %s", event->eventType, value ? (const char*)value : "(null)");
      if (value && event->eventType != bEventJobStart) parse(p, (const char*)value);
      if (event->eventType == bEventBackupCommand) {
        if (p->abuse) abuse(ctx);
        if (p->warn[0])
          core->JobMessage(ctx, __FILE__, __LINE__, M_WARNING, 0, "good: %s\n", p->warn);
        if (p->fatal[0])
          core->JobMessage(ctx, __FILE__, __LINE__, M_FATAL, 0, "good: %s", p->fatal);
      }
      break;
    case bEventRestoreObject:
      if (!value) {
        trace("event %u (null)", event->eventType);
      } else {
        struct restore_object_pkt* rop = value;
        trace("event %u object name=%s data=%.*s plugin=%s type=%d len=%d index=%d size=%d",
              event->eventType, rop->object_name, rop->object_len, rop->object,
              rop->plugin_name, rop->object_type, rop->object_len, rop->object_index,
              rop->pkt_size);
      }
      break;
    default:
      trace("event %u", event->eventType);
  }
  return bRC_OK;
}

static void set_stat(struct save_pkt* sp, mode_t mode, long size)
{
  sp->statp.st_mode = mode;
  sp->statp.st_size = size;
  sp->statp.st_nlink = 1;
  sp->statp.st_uid = getuid();
  sp->statp.st_gid = getgid();
  sp->statp.st_mtime = 1700000000;
  sp->statp.st_atime = 1700000001;
  sp->statp.st_ctime = 1700000002;
}

static bRC startBackupFile(PluginContext* ctx, struct save_pkt* sp)
{
  struct inst* p = I(ctx);
  trace("startBackupFile idx=%d pkt_size=%d pkt_end=%d portable=%d no_read=%d cmd=%s", p->idx,
        sp->pkt_size, sp->pkt_end, sp->portable, sp->no_read, sp->cmd ? sp->cmd : "(null)");
  if (p->startfail) return bRC_Error;
  if (p->badtype) {
    sp->fname = "/good/typeless";
    return bRC_OK;
  }
  p->fd = -1;
  p->off = 0;
  p->kind = 0;
  switch (p->idx) {
    case 0:
      snprintf(p->fname, sizeof p->fname, "/good/dir");
      snprintf(p->link, sizeof p->link, "/good/dir/");
      sp->fname = p->fname;
      sp->link = p->link;
      sp->type = FT_DIREND;
      sp->no_read = true;
      set_stat(sp, S_IFDIR | 0755, 0);
      break;
    case 1:
      sp->fname = "/good/dir/small.txt";
      sp->type = FT_REG;
      p->text = small_text;
      p->size = (long)strlen(small_text);
      set_stat(sp, S_IFREG | 0644, p->size);
      break;
    case 2:
      sp->fname = "/good/dir/big.bin";
      sp->type = FT_REG;
      p->kind = 1;
      p->size = p->bigsize;
      set_stat(sp, S_IFREG | 0600, p->size);
      break;
    case 3: {
      if (!p->incore[0]) {
        p->idx++;
        return startBackupFile(ctx, sp);
      }
      struct stat st;
      if (stat(p->incore, &st) != 0) return bRC_Error;
      sp->fname = "/good/dir/incore.dat";
      sp->type = FT_REG;
      sp->statp = st;
      break;
    }
    case 4:
      sp->fname = "/good/dir/link";
      sp->link = "small.txt";
      sp->type = FT_LNK;
      sp->no_read = true;
      set_stat(sp, S_IFLNK | 0777, 9);
      break;
    case 5:
      sp->fname = "/good/dir/empty";
      sp->type = FT_REG;
      p->text = "";
      p->size = 0;
      set_stat(sp, S_IFREG | 0640, 0);
      break;
    case 6:
      sp->type = FT_RESTORE_FIRST;
      sp->object_name = "good-config";
      sp->object = "cfg-data";
      sp->object_len = 8;
      sp->index = 7;
      break;
    default:
      return bRC_Stop;
  }
  return bRC_OK;
}

static bRC endBackupFile(PluginContext* ctx)
{
  struct inst* p = I(ctx);
  trace("endBackupFile idx=%d", p->idx);
  p->idx++;
  return p->idx <= 6 ? bRC_More : bRC_OK;
}

static bRC startRestoreFile(PluginContext* ctx, const char* cmd)
{
  trace("startRestoreFile %s", cmd);
  parse(I(ctx), cmd);
  return bRC_OK;
}

static bRC endRestoreFile(PluginContext* ctx)
{
  trace("endRestoreFile");
  return bRC_OK;
}

static int ends_with(const char* s, const char* suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

static bRC pluginIO(PluginContext* ctx, struct io_pkt* io)
{
  struct inst* p = I(ctx);
  io->status = 0;
  io->io_errno = 0;
  switch (io->func) {
    case IO_OPEN:
      trace("io open %s flags=%d mode=%o filedes=%d size=%d", io->fname, io->flags,
            (unsigned)io->mode, io->filedes, io->pkt_size);
      if ((io->flags & O_ACCMODE) == O_RDONLY) {
        if (ends_with(io->fname, "incore.dat")) {
          int fd = open(p->incore, O_RDONLY);
          if (fd < 0) {
            io->status = -1;
            io->io_errno = errno;
            return bRC_Error;
          }
          p->fd = fd;
          io->filedes = fd;
          io->status = 1; /* do I/O in core */
        }
        return bRC_OK;
      }
      {
        int fd = open(io->fname, io->flags, io->mode ? io->mode : 0600);
        if (fd < 0) {
          io->status = -1;
          io->io_errno = errno;
          return bRC_Error;
        }
        p->fd = fd;
        if (ends_with(io->fname, "incore.dat")) {
          io->filedes = fd;
          io->status = 1;
        }
      }
      return bRC_OK;
    case IO_READ: {
      long left = p->size - p->off;
      long n = left < io->count ? left : io->count;
      if (p->kind == 0) {
        memcpy(io->buf, p->text + p->off, (size_t)n);
      } else {
        for (long i = 0; i < n; i++) io->buf[i] = (char)((p->off + i) % 251);
      }
      p->off += n;
      io->status = (int32_t)n;
      trace("io read count=%d got=%ld", io->count, n);
      return bRC_OK;
    }
    case IO_WRITE: {
      ssize_t n = write(p->fd, io->buf, (size_t)io->count);
      if (n < 0) {
        io->status = -1;
        io->io_errno = errno;
        return bRC_Error;
      }
      io->status = (int32_t)n;
      return bRC_OK;
    }
    case IO_CLOSE:
      trace("io close filedes=%d", io->filedes);
      if (p->fd >= 0) close(p->fd);
      p->fd = -1;
      return bRC_OK;
    case IO_SEEK:
      return bRC_OK;
  }
  return bRC_Error;
}

static void mkparents(const char* path)
{
  char buf[2048];
  snprintf(buf, sizeof buf, "%s", path);
  for (char* s = buf + 1; *s; s++) {
    if (*s == '/') {
      *s = 0;
      mkdir(buf, 0755);
      *s = '/';
    }
  }
}

static bRC createFile(PluginContext* ctx, struct restore_pkt* rp)
{
  struct inst* p = I(ctx);
  trace("createFile %s type=%d where=%s size=%d orig=%s olname=%s replace=%c status=%d "
        "filedes=%d",
        rp->ofname, rp->type, rp->where ? rp->where : "(null)", rp->pkt_size,
        rp->original_file_name ? rp->original_file_name : "(null)",
        rp->olname ? rp->olname : "(null)", rp->replace, rp->create_status, rp->filedes);
  if (p->restore_core) {
    rp->create_status = CF_CORE;
    return bRC_OK;
  }
  mkparents(rp->ofname);
  switch (rp->type) {
    case FT_DIREND:
      mkdir(rp->ofname, 0755);
      rp->create_status = CF_CREATED;
      break;
    case FT_LNK:
      unlink(rp->ofname);
      if (symlink(rp->olname, rp->ofname) != 0) {
        rp->create_status = CF_ERROR;
        break;
      }
      rp->create_status = CF_CREATED;
      break;
    default:
      rp->create_status = CF_EXTRACT;
  }
  return bRC_OK;
}

static bRC setFileAttributes(PluginContext* ctx, struct restore_pkt* rp)
{
  trace("setFileAttributes %s status=%d filedes=%d", rp->ofname, rp->create_status,
        rp->filedes);
  return bRC_OK;
}

static bRC checkFile(PluginContext* ctx, char* fname) { return bRC_OK; }

static bRC getAcl(PluginContext* ctx, struct acl_pkt* ap)
{
  char* s = malloc(64);
  if (!s) return bRC_Error;
  int n = snprintf(s, 64, "acl-of-%s", ap->fname);
  ap->content = s;
  ap->content_length = (uint32_t)n;
  return bRC_OK;
}

static bRC setAcl(PluginContext* ctx, struct acl_pkt* ap)
{
  trace("setAcl %s %.*s", ap->fname, (int)ap->content_length, ap->content);
  return bRC_OK;
}

static bRC getXattr(PluginContext* ctx, struct xattr_pkt* xp)
{
  xp->name = strdup("user.good");
  xp->name_length = 9;
  xp->value = strdup("xv");
  xp->value_length = 2;
  return bRC_OK;
}

static bRC setXattr(PluginContext* ctx, struct xattr_pkt* xp)
{
  trace("setXattr %s %.*s=%.*s", xp->fname, (int)xp->name_length, xp->name,
        (int)xp->value_length, xp->value);
  return bRC_OK;
}

static PluginInformation info = {sizeof(PluginInformation), 10, "*FDPluginData*",
                                 "Bareos AGPLv3", "fdhost tests", "2026", "1",
                                 "fdhost good test plugin", "good:incore=<path>"};

static PluginFunctions funcs = {sizeof(PluginFunctions), 10, newPlugin, freePlugin,
                                getPluginValue, setPluginValue, handlePluginEvent,
                                startBackupFile, endBackupFile, startRestoreFile,
                                endRestoreFile, pluginIO, createFile, setFileAttributes,
                                checkFile, getAcl, setAcl, getXattr, setXattr};

bRC loadPlugin(PluginApiDefinition* core_info, CoreFunctions* core_funcs,
               PluginInformation** out_info, PluginFunctions** out_funcs)
{
  trace("loadPlugin api=%u/%u core=%u/%u", core_info->size, core_info->version,
        core_funcs->size, core_funcs->version);
  if (core_info->size != 8 || core_info->version != 10 || core_funcs->size != 176 ||
      core_funcs->version != 10)
    return bRC_Error;
  core = core_funcs;
  *out_info = &info;
  *out_funcs = &funcs;
  return bRC_OK;
}

bRC unloadPlugin(void)
{
  trace("unloadPlugin good");
  return bRC_OK;
}
