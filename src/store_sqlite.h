/*
 * Internals shared by the SQLite store's files (src/store_*.c).
 */
#ifndef SCEPD_STORE_SQLITE_H
#define SCEPD_STORE_SQLITE_H

#include <pthread.h>

#include <sqlite3.h>

#include "store.h"

#define STORE_OWNER_MAX	64

struct store {
	sqlite3		*db;
	pthread_mutex_t	 mutex;
	char		 owner[STORE_OWNER_MAX + 1];	/* "" or hex */
};

int		 store_exec(struct store *st, const char *sql);
sqlite3_stmt	*store_prepare(struct store *st, const char *sql);
/* Binds text, or NULL for a NULL pointer. */
int		 store_bind_text(sqlite3_stmt *stmt, int i, const char *s);
/* Runs a statement that returns no row, then finalizes it. */
int		 store_step_done(struct store *st, sqlite3_stmt *stmt);
/* A copy of a text column, NULL for SQL NULL; *err set on no memory. */
char		*store_column_text(sqlite3_stmt *stmt, int col, int *err);
/* A copy of a blob column (malloc), NULL for SQL NULL or empty. */
unsigned char	*store_column_blob(sqlite3_stmt *stmt, int col, size_t *len,
		    int *err);
/* Locks the connection and opens a write transaction. */
int		 store_begin(struct store *st);
/* Commits if ok, else rolls back; unlocks.  0 if committed. */
int		 store_end(struct store *st, int ok);
int		 store_insert_event(struct store *st,
		    const struct store_event *ev);

#endif
