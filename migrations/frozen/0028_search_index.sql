-- Frozen from models/search_index.py by tools/freeze_sql.py. Never edit this file:
-- a change to the SQL is a new migration with a new frozen file (docs/howto.md).

-- [sqlite upgrade] table
CREATE VIRTUAL TABLE IF NOT EXISTS projects_search USING fts5(name, project_no, organizer, principal, content='projects', content_rowid='id', tokenize='trigram')

-- [sqlite upgrade] projects_search_insert
CREATE TRIGGER projects_search_insert AFTER INSERT ON projects BEGIN INSERT INTO projects_search(rowid, name, project_no, organizer, principal) VALUES (new.id, new.name, new.project_no, new.organizer, new.principal); END

-- [sqlite upgrade] projects_search_delete
CREATE TRIGGER projects_search_delete AFTER DELETE ON projects BEGIN INSERT INTO projects_search(projects_search, rowid, name, project_no, organizer, principal) VALUES ('delete', old.id, old.name, old.project_no, old.organizer, old.principal); END

-- [sqlite upgrade] projects_search_update
CREATE TRIGGER projects_search_update AFTER UPDATE OF name, project_no, organizer, principal ON projects BEGIN INSERT INTO projects_search(projects_search, rowid, name, project_no, organizer, principal) VALUES ('delete', old.id, old.name, old.project_no, old.organizer, old.principal); INSERT INTO projects_search(rowid, name, project_no, organizer, principal) VALUES (new.id, new.name, new.project_no, new.organizer, new.principal); END

-- [sqlite upgrade] rebuild
INSERT INTO projects_search(projects_search) VALUES ('rebuild')

-- [sqlite downgrade] projects_search_insert
DROP TRIGGER IF EXISTS projects_search_insert

-- [sqlite downgrade] projects_search_delete
DROP TRIGGER IF EXISTS projects_search_delete

-- [sqlite downgrade] projects_search_update
DROP TRIGGER IF EXISTS projects_search_update

-- [sqlite downgrade] table
DROP TABLE IF EXISTS projects_search

-- [postgresql upgrade] ix_projects_name_trgm
CREATE INDEX IF NOT EXISTS ix_projects_name_trgm ON projects USING gin (name gin_trgm_ops)

-- [postgresql upgrade] ix_projects_project_no_trgm
CREATE INDEX IF NOT EXISTS ix_projects_project_no_trgm ON projects USING gin (project_no gin_trgm_ops)

-- [postgresql upgrade] ix_projects_organizer_trgm
CREATE INDEX IF NOT EXISTS ix_projects_organizer_trgm ON projects USING gin (organizer gin_trgm_ops)

-- [postgresql upgrade] ix_projects_principal_trgm
CREATE INDEX IF NOT EXISTS ix_projects_principal_trgm ON projects USING gin (principal gin_trgm_ops)

-- [postgresql downgrade] ix_projects_name_trgm
DROP INDEX IF EXISTS ix_projects_name_trgm

-- [postgresql downgrade] ix_projects_project_no_trgm
DROP INDEX IF EXISTS ix_projects_project_no_trgm

-- [postgresql downgrade] ix_projects_organizer_trgm
DROP INDEX IF EXISTS ix_projects_organizer_trgm

-- [postgresql downgrade] ix_projects_principal_trgm
DROP INDEX IF EXISTS ix_projects_principal_trgm

-- [sqlite upgrade] reports table
CREATE VIRTUAL TABLE IF NOT EXISTS execution_reports_search USING fts5(name, content='execution_reports', content_rowid='id', tokenize='trigram')

-- [sqlite upgrade] execution_reports_search_insert
CREATE TRIGGER execution_reports_search_insert AFTER INSERT ON execution_reports BEGIN INSERT INTO execution_reports_search(rowid, name) VALUES (new.id, new.name); END

-- [sqlite upgrade] execution_reports_search_delete
CREATE TRIGGER execution_reports_search_delete AFTER DELETE ON execution_reports BEGIN INSERT INTO execution_reports_search(execution_reports_search, rowid, name) VALUES ('delete', old.id, old.name); END

-- [sqlite upgrade] execution_reports_search_update
CREATE TRIGGER execution_reports_search_update AFTER UPDATE OF name ON execution_reports BEGIN INSERT INTO execution_reports_search(execution_reports_search, rowid, name) VALUES ('delete', old.id, old.name); INSERT INTO execution_reports_search(rowid, name) VALUES (new.id, new.name); END

-- [sqlite upgrade] reports rebuild
INSERT INTO execution_reports_search(execution_reports_search) VALUES ('rebuild')

-- [sqlite downgrade] execution_reports_search_insert
DROP TRIGGER IF EXISTS execution_reports_search_insert

-- [sqlite downgrade] execution_reports_search_delete
DROP TRIGGER IF EXISTS execution_reports_search_delete

-- [sqlite downgrade] execution_reports_search_update
DROP TRIGGER IF EXISTS execution_reports_search_update

-- [sqlite downgrade] reports table
DROP TABLE IF EXISTS execution_reports_search

-- [postgresql upgrade] ix_execution_reports_name_trgm
CREATE INDEX IF NOT EXISTS ix_execution_reports_name_trgm ON execution_reports USING gin (name gin_trgm_ops)

-- [postgresql downgrade] ix_execution_reports_name_trgm
DROP INDEX IF EXISTS ix_execution_reports_name_trgm
