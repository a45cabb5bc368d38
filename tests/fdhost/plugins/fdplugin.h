/*
 * Minimal declarations of the Bareos FD plugin ABI (interface version 10),
 * written from shared/spec/fd-abi.md for fdhost's test plugins.
 */
#ifndef FDHOST_TEST_FDPLUGIN_H
#define FDHOST_TEST_FDPLUGIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

typedef enum {
  bRC_OK = 0, bRC_Stop = 1, bRC_Error = 2, bRC_More = 3, bRC_Term = 4,
  bRC_Seen = 5, bRC_Core = 6, bRC_Skip = 7, bRC_Cancel = 8
} bRC;

typedef struct {
  uint32_t instance;
  void* plugin;
  void* core_private_context;
  void* plugin_private_context;
} PluginContext;

typedef struct { uint32_t size; uint32_t version; } PluginApiDefinition;

typedef struct {
  uint32_t size;
  uint32_t version;
  const char* plugin_magic;
  const char* plugin_license;
  const char* plugin_author;
  const char* plugin_date;
  const char* plugin_version;
  const char* plugin_description;
  const char* plugin_usage;
} PluginInformation;

typedef struct { uint32_t eventType; } bEvent;

struct save_pkt {
  int32_t pkt_size;
  char* fname;
  char* link;
  struct stat statp;
  int32_t type;
  char flags[5];
  bool no_read;
  bool portable;
  bool accurate_found;
  char* cmd;
  time_t save_time;
  uint32_t delta_seq;
  char* object_name;
  char* object;
  int32_t object_len;
  int32_t index;
  int32_t pkt_end;
};

struct restore_pkt {
  int32_t pkt_size;
  int32_t stream;
  int32_t data_stream;
  int32_t type;
  int32_t file_index;
  int32_t LinkFI;
  uint32_t uid;
  struct stat statp;
  const char* attrEx;
  const char* ofname;
  const char* olname;
  const char* where;
  const char* RegexWhere;
  int replace;
  int create_status;
  uint32_t delta_seq;
  int filedes;
  const char* original_file_name;
  const char* original_link_name;
  int32_t pkt_end;
};

struct io_pkt {
  int32_t pkt_size;
  int32_t func;
  int32_t count;
  int32_t flags;
  mode_t mode;
  char* buf;
  const char* fname;
  int32_t status;
  int32_t io_errno;
  int32_t lerror;
  int32_t whence;
  int64_t offset;
  bool win32;
  int filedes;
  int32_t pkt_end;
};

struct acl_pkt {
  int32_t pkt_size;
  const char* fname;
  uint32_t content_length;
  char* content;
  int32_t pkt_end;
};

struct xattr_pkt {
  int32_t pkt_size;
  const char* fname;
  uint32_t name_length;
  char* name;
  uint32_t value_length;
  char* value;
  int32_t pkt_end;
};

struct restore_object_pkt {
  int32_t pkt_size;
  char* object_name;
  char* object;
  char* plugin_name;
  int32_t object_type;
  int32_t object_len;
  int32_t object_full_len;
  int32_t object_index;
  int32_t object_compression;
  int32_t stream;
  uint32_t JobId;
  int32_t pkt_end;
};

typedef struct {
  uint32_t size;
  uint32_t version;
  bRC (*registerBareosEvents)(PluginContext* ctx, int nr, ...);
  bRC (*unregisterBareosEvents)(PluginContext* ctx, int nr, ...);
  bRC (*getInstanceCount)(PluginContext* ctx, int* ret);
  bRC (*getBareosValue)(PluginContext* ctx, int var, void* value);
  bRC (*setBareosValue)(PluginContext* ctx, int var, const void* value);
  bRC (*JobMessage)(PluginContext* ctx, const char* file, int line, int type, int64_t mtime,
                    const char* fmt, ...);
  bRC (*DebugMessage)(PluginContext* ctx, const char* file, int line, int level,
                      const char* fmt, ...);
  void* (*bareosMalloc)(PluginContext* ctx, const char* file, int line, size_t size);
  void (*bareosFree)(PluginContext* ctx, const char* file, int line, void* mem);
  bRC (*AddExclude)(PluginContext* ctx, const char* file);
  bRC (*AddInclude)(PluginContext* ctx, const char* file);
  bRC (*AddOptions)(PluginContext* ctx, const char* opts);
  bRC (*AddRegex)(PluginContext* ctx, const char* item, int type);
  bRC (*AddWild)(PluginContext* ctx, const char* item, int type);
  bRC (*NewOptions)(PluginContext* ctx);
  bRC (*NewInclude)(PluginContext* ctx);
  bRC (*NewPreInclude)(PluginContext* ctx);
  bRC (*checkChanges)(PluginContext* ctx, struct save_pkt* sp);
  bRC (*AcceptFile)(PluginContext* ctx, struct save_pkt* sp);
  bRC (*SetSeenBitmap)(PluginContext* ctx, bool all, char* fname);
  bRC (*ClearSeenBitmap)(PluginContext* ctx, bool all, char* fname);
} CoreFunctions;

typedef struct {
  uint32_t size;
  uint32_t version;
  bRC (*newPlugin)(PluginContext* ctx);
  bRC (*freePlugin)(PluginContext* ctx);
  bRC (*getPluginValue)(PluginContext* ctx, int var, void* value);
  bRC (*setPluginValue)(PluginContext* ctx, int var, void* value);
  bRC (*handlePluginEvent)(PluginContext* ctx, bEvent* event, void* value);
  bRC (*startBackupFile)(PluginContext* ctx, struct save_pkt* sp);
  bRC (*endBackupFile)(PluginContext* ctx);
  bRC (*startRestoreFile)(PluginContext* ctx, const char* cmd);
  bRC (*endRestoreFile)(PluginContext* ctx);
  bRC (*pluginIO)(PluginContext* ctx, struct io_pkt* io);
  bRC (*createFile)(PluginContext* ctx, struct restore_pkt* rp);
  bRC (*setFileAttributes)(PluginContext* ctx, struct restore_pkt* rp);
  bRC (*checkFile)(PluginContext* ctx, char* fname);
  bRC (*getAcl)(PluginContext* ctx, struct acl_pkt* ap);
  bRC (*setAcl)(PluginContext* ctx, struct acl_pkt* ap);
  bRC (*getXattr)(PluginContext* ctx, struct xattr_pkt* xp);
  bRC (*setXattr)(PluginContext* ctx, struct xattr_pkt* xp);
} PluginFunctions;

enum {
  bEventJobStart = 1, bEventJobEnd = 2, bEventStartBackupJob = 3, bEventEndBackupJob = 4,
  bEventStartRestoreJob = 5, bEventEndRestoreJob = 6, bEventBackupCommand = 9,
  bEventRestoreCommand = 10, bEventEstimateCommand = 11, bEventLevel = 12, bEventSince = 13,
  bEventRestoreObject = 15, bEventEndFileSet = 16, bEventPluginCommand = 17
};
enum { bVarJobId = 1, bVarFDName = 2, bVarLevel = 3, bVarType = 4, bVarJobName = 6,
       bVarSinceTime = 8, bVarWhere = 13, bVarCheckChanges = 20 };
enum { FT_REG = 3, FT_LNK = 4, FT_DIREND = 5, FT_RESTORE_FIRST = 25 };
enum { CF_SKIP = 1, CF_ERROR = 2, CF_EXTRACT = 3, CF_CREATED = 4, CF_CORE = 5 };
enum { IO_OPEN = 1, IO_READ = 2, IO_WRITE = 3, IO_CLOSE = 4, IO_SEEK = 5 };
enum { M_FATAL = 3, M_ERROR = 4, M_WARNING = 5, M_INFO = 6 };
enum { FO_ACL = 14, FO_XATTR = 27 };

#endif
