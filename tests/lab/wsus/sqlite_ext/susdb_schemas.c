/*
 * SQLite loadable extension for the lab's SUSDB.
 *
 * SQL Server names SUSDB objects by schema (dbo.tbFile, PUBLIC_VIEWS.vUpdate); SQLite has
 * no schemas, but it resolves "name.object" against attached databases. On every new
 * connection this extension attaches the connection's own database file a second and a
 * third time, as "dbo" and "PUBLIC_VIEWS", so the collection's T-SQL runs unchanged through
 * a plain ODBC connection string (";LoadExt=/path/susdb.so").
 *
 * Built with -DSUSDB_READONLY it also makes the connection read-only, the way the
 * PublicViewAccess role is on a real SUSDB: PRAGMA query_only, plus an authorizer that
 * refuses every write, schema change, ATTACH/DETACH and pragma assignment, so SQL text
 * cannot switch read-only off again.
 *
 * The entry point name follows SQLite's rule for extensions loaded without one:
 * sqlite3_<letters of the file name after any "lib" prefix>_init.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <string.h>

static int attach_as(sqlite3 *db, const char *file, const char *schema, char **err)
{
    sqlite3_stmt *stmt = 0;
    int rc = sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS ?2", -1, &stmt, 0);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, file, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 2, schema, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK) {
        *err = sqlite3_mprintf("susdb extension: cannot attach %s as %s: %s", file, schema, sqlite3_errmsg(db));
    }
    sqlite3_finalize(stmt);
    return rc;
}

#ifdef SUSDB_READONLY
/* Pragmas that only read, even with an argument (the ODBC driver's catalog functions use them). */
static const char *const READ_PRAGMAS[] = {
    "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "database_list", "collation_list", "function_list", 0
};

static int is_read_pragma(const char *name)
{
    int i;
    for (i = 0; READ_PRAGMAS[i]; i++) {
        if (sqlite3_stricmp(name, READ_PRAGMAS[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int read_only_authorizer(void *unused, int action, const char *arg1, const char *arg2,
                                const char *schema, const char *trigger)
{
    (void)unused;
    (void)schema;
    (void)trigger;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        return (arg2 && sqlite3_stricmp(arg2, "load_extension") == 0) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_PRAGMA:
        return (arg2 == 0 || is_read_pragma(arg1)) ? SQLITE_OK : SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}
#define SUSDB_ENTRY sqlite3_susdbreadonly_init
#else
#define SUSDB_ENTRY sqlite3_susdb_init
#endif

#ifdef _WIN32
__declspec(dllexport)
#endif
int SUSDB_ENTRY(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    const char *file;
    int rc;
    SQLITE_EXTENSION_INIT2(api);

    file = sqlite3_db_filename(db, "main");
    if (file == 0 || file[0] == 0) {
        *err = sqlite3_mprintf("susdb extension: the connection has no database file; name the SUSDB file in Database=");
        return SQLITE_ERROR;
    }
    rc = attach_as(db, file, "dbo", err);
    if (rc == SQLITE_OK) {
        rc = attach_as(db, file, "PUBLIC_VIEWS", err);
    }
#ifdef SUSDB_READONLY
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "PRAGMA query_only = 1", 0, 0, err);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_set_authorizer(db, read_only_authorizer, 0);
    }
#endif
    return rc;
}
