/*
 * files: the few file-system steps that must survive a crash, shared by
 * the master key (vault.c) and the SQLite driver's backup and restore.
 */
#ifndef BF_FILES_H
#define BF_FILES_H

/*
 * Creates path for writing, mode 0600: a new file, never an existing one
 * nor through a symbolic link (-1 with errno EEXIST then).  A descriptor,
 * close-on-exec, or -1.
 */
int	files_create(const char *path);
/*
 * Syncs the directory holding path, so that a name made, linked or
 * renamed there outlasts a crash.  0 or -1.
 */
int	files_sync_dir(const char *path);

#endif
