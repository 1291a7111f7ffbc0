"""SUSDB schema in SQLite: the real table, column and view names the collection reads.

Only the columns the lab needs exist. Tables prefixed ``lab`` are the lab's own (what real
SUSDB keeps in tables the collection never reads: localized titles, categories, file
languages). Type names are chosen for what the SQLite ODBC driver reports to pyodbc:

- ``BIT`` comes back as ``bool`` and ``DATETIME`` as ``datetime``, as from SQL Server;
- ``FileDigest`` is ``VARBINARY(20)``, not the real ``binary(20)``: the driver reports
  ``BINARY`` columns as text (``X'..'``) but ``VARBINARY`` as bytes, which is what pyodbc
  returns for SQL Server's ``binary(20)``;
- GUIDs are upper-case text with ``COLLATE NOCASE``: pyodbc returns SQL Server's
  ``uniqueidentifier`` as upper-case text, and SQL Server compares GUIDs (and, with its
  default collation, strings) without regard to case.

EULA files are linked to revisions through ``tbEulaProperty`` (as in SUSDB), every other file
through ``tbFileForRevision``; the lab's own view ``labRevisionFile`` is both.

The views live in the same file as the tables (SQLite views cannot reach into other attached
databases); the connection extension attaches that file as ``PUBLIC_VIEWS`` and ``dbo``.
"""
from __future__ import annotations

SCHEMA_VERSION = 1

TABLES = """
CREATE TABLE tbConfigurationA (
    ConfigurationID INT PRIMARY KEY,
    LastConfigChange DATETIME NOT NULL,
    ServerId UNIQUEIDENTIFIER NOT NULL COLLATE NOCASE,
    SyncToMU BIT NOT NULL,
    UpstreamServerName NVARCHAR(256) COLLATE NOCASE,
    ServerPortNumber INT NOT NULL,
    UpstreamServerUseSSL BIT NOT NULL,
    UseProxy BIT NOT NULL,
    ProxyName NVARCHAR(256),
    ProxyServerPort INT NOT NULL,
    HostOnMu BIT NOT NULL,
    ServerTargeting BIT NOT NULL
);
CREATE TABLE tbConfigurationB (
    ConfigurationID INT PRIMARY KEY,
    LocalContentCacheLocation NVARCHAR(260) NOT NULL COLLATE NOCASE,
    ServerSupportsAllLanguages BIT NOT NULL,
    ImportLocalPath NVARCHAR(260)
);
CREATE TABLE tbConfigurationC (
    ConfigurationID INT PRIMARY KEY,
    LazySync BIT NOT NULL,
    DownloadExpressPackages BIT NOT NULL,
    ReplicaMode BIT NOT NULL,
    GetContentFromMU BIT NOT NULL,
    AutoRefreshDeployments BIT NOT NULL
);
CREATE TABLE tbLanguage (
    LanguageID INT PRIMARY KEY,
    ShortLanguage NVARCHAR(20) NOT NULL UNIQUE COLLATE NOCASE,
    LongLanguage NVARCHAR(100) NOT NULL,
    Enabled BIT NOT NULL
);
CREATE TABLE tbUpdate (
    LocalUpdateID INTEGER PRIMARY KEY,
    UpdateID UNIQUEIDENTIFIER NOT NULL UNIQUE COLLATE NOCASE,
    UpdateTypeID UNIQUEIDENTIFIER COLLATE NOCASE,
    IsHidden BIT NOT NULL DEFAULT 0,
    IsPublic BIT NOT NULL DEFAULT 1,
    LegacyName NVARCHAR(256)
);
CREATE TABLE tbRevision (
    RevisionID INTEGER PRIMARY KEY,
    LocalUpdateID INT NOT NULL REFERENCES tbUpdate (LocalUpdateID),
    RevisionNumber INT NOT NULL,
    IsLatestRevision BIT NOT NULL,
    IsLeaf BIT NOT NULL DEFAULT 1,
    IsCritical BIT NOT NULL DEFAULT 0,
    State TINYINT NOT NULL DEFAULT 1,
    Origin INT NOT NULL DEFAULT 0,
    UNIQUE (LocalUpdateID, RevisionNumber)
);
CREATE INDEX ixRevisionLatest ON tbRevision (LocalUpdateID, IsLatestRevision);
CREATE TABLE tbRevisionSupersedesUpdate (
    RevisionID INT NOT NULL,
    SupersededUpdateID UNIQUEIDENTIFIER NOT NULL COLLATE NOCASE,
    PRIMARY KEY (RevisionID, SupersededUpdateID)
);
CREATE INDEX ixSupersededUpdate ON tbRevisionSupersedesUpdate (SupersededUpdateID);
CREATE TABLE tbFile (
    FileDigest VARBINARY(20) PRIMARY KEY,
    FileName NVARCHAR(256) NOT NULL COLLATE NOCASE,
    Modified DATETIME,
    Size BIGINT NOT NULL,
    IsEula BIT NOT NULL,
    MUURL NVARCHAR(2048),
    IsSecure BIT NOT NULL DEFAULT 0,
    IsEncrypted BIT NOT NULL DEFAULT 0
);
CREATE TABLE tbFileHash (
    FileDigest VARBINARY(20) NOT NULL,
    DigestAlgorithm NVARCHAR(20) NOT NULL,
    AdditionalHash VARBINARY(64) NOT NULL,
    PRIMARY KEY (FileDigest, DigestAlgorithm)
);
CREATE TABLE tbFileForRevision (
    RevisionID INT NOT NULL,
    FileDigest VARBINARY(20) NOT NULL,
    PatchingType TINYINT NOT NULL DEFAULT 0,
    PRIMARY KEY (RevisionID, FileDigest)
);
CREATE INDEX ixFileForRevisionDigest ON tbFileForRevision (FileDigest);
CREATE TABLE tbEulaProperty (
    EulaFileDigest VARBINARY(20) NOT NULL,
    RevisionID INT NOT NULL,
    LanguageID INT NOT NULL,
    PRIMARY KEY (RevisionID, EulaFileDigest, LanguageID)
);
CREATE INDEX ixEulaPropertyDigest ON tbEulaProperty (EulaFileDigest);
CREATE TABLE tbFileOnServer (
    FileDigest VARBINARY(20) PRIMARY KEY,
    ConfigurationID INT NOT NULL DEFAULT 1,
    DesiredState INT NOT NULL,
    ActualState INT NOT NULL,
    TimeAddedToQueue DATETIME
);
CREATE TABLE tbTargetGroup (
    TargetGroupID UNIQUEIDENTIFIER PRIMARY KEY COLLATE NOCASE,
    Name NVARCHAR(256) NOT NULL,
    Description NVARCHAR(1500),
    ParentGroupID UNIQUEIDENTIFIER COLLATE NOCASE,
    OrderValue INT NOT NULL,
    IsBuiltin BIT NOT NULL,
    TargetGroupTypeID INT NOT NULL DEFAULT 0,
    GroupPriority INT NOT NULL DEFAULT 0
);
CREATE TABLE tbDeployment (
    DeploymentID INTEGER PRIMARY KEY,
    RevisionID INT NOT NULL,
    TargetGroupID UNIQUEIDENTIFIER NOT NULL COLLATE NOCASE,
    ActionID INT NOT NULL,
    DeploymentStatus TINYINT NOT NULL,
    DeploymentTime DATETIME NOT NULL,
    GoLiveTime DATETIME NOT NULL,
    Deadline DATETIME,
    AdminName NVARCHAR(385) NOT NULL,
    DeploymentGuid UNIQUEIDENTIFIER NOT NULL UNIQUE COLLATE NOCASE,
    IsAssigned BIT NOT NULL DEFAULT 1,
    LastChangeTime DATETIME NOT NULL
);
CREATE INDEX ixDeploymentRevision ON tbDeployment (RevisionID);
CREATE TABLE labUpdateInfo (
    LocalUpdateID INTEGER PRIMARY KEY,
    DefaultTitle NVARCHAR(400) NOT NULL,
    DefaultDescription NVARCHAR(1500) NOT NULL,
    KnowledgebaseArticle NVARCHAR(15),
    SecurityBulletin NVARCHAR(15),
    MsrcSeverity NVARCHAR(20),
    ClassificationID UNIQUEIDENTIFIER COLLATE NOCASE,
    ProductID UNIQUEIDENTIFIER COLLATE NOCASE,
    UpdateType NVARCHAR(256) NOT NULL,
    CreationDate DATETIME NOT NULL,
    ArrivalDate DATETIME NOT NULL,
    CatalogIndex INT
);
CREATE TABLE labFileInfo (
    FileDigest VARBINARY(20) PRIMARY KEY,
    Language NVARCHAR(20) NOT NULL DEFAULT '' COLLATE NOCASE
);
CREATE TABLE labSubscription (
    Name NVARCHAR(100) PRIMARY KEY,
    Value NVARCHAR(4000)
);
CREATE TABLE labState (
    Name NVARCHAR(100) PRIMARY KEY,
    Value NVARCHAR(4000)
);
"""

VIEWS = """
CREATE VIEW vUpdate AS
SELECT u.UpdateID AS UpdateId,
       r.RevisionNumber AS RevisionNumber,
       i.DefaultTitle AS DefaultTitle,
       i.DefaultDescription AS DefaultDescription,
       i.ClassificationID AS ClassificationId,
       i.ArrivalDate AS ArrivalDate,
       i.CreationDate AS CreationDate,
       CASE WHEN r.State = 2 THEN 1 ELSE 0 END AS IsDeclined,
       0 AS IsWsusInfrastructureUpdate,
       i.MsrcSeverity AS MsrcSeverity,
       'Published' AS PublicationState,
       i.UpdateType AS UpdateType,
       'MicrosoftUpdate' AS UpdateSource,
       i.KnowledgebaseArticle AS KnowledgebaseArticle,
       i.SecurityBulletin AS SecurityBulletin
FROM tbUpdate u
JOIN tbRevision r ON r.LocalUpdateID = u.LocalUpdateID AND r.IsLatestRevision = 1
JOIN labUpdateInfo i ON i.LocalUpdateID = u.LocalUpdateID;

CREATE VIEW vUpdateApproval AS
SELECT d.DeploymentGuid AS UpdateApprovalId,
       d.RevisionID AS RevisionId,
       d.TargetGroupID AS ComputerTargetGroupId,
       u.UpdateID AS UpdateId,
       r.RevisionNumber AS RevisionNumber,
       CASE d.ActionID WHEN 0 THEN 'Install' WHEN 1 THEN 'Uninstall' ELSE 'NotApproved' END AS Action,
       d.Deadline AS Deadline,
       d.DeploymentTime AS CreationDate,
       d.AdminName AS AdministratorName
FROM tbDeployment d
JOIN tbRevision r ON r.RevisionID = d.RevisionID
JOIN tbUpdate u ON u.LocalUpdateID = r.LocalUpdateID
WHERE d.ActionID IN (0, 1);

CREATE VIEW labRevisionFile AS
SELECT RevisionID, FileDigest, PatchingType FROM tbFileForRevision
UNION ALL
SELECT RevisionID, EulaFileDigest AS FileDigest, 0 AS PatchingType FROM tbEulaProperty;

CREATE VIEW vComputerTargetGroup AS
SELECT g.TargetGroupID AS ComputerTargetGroupId,
       g.ParentGroupID AS ParentGroupId,
       g.Name AS Name,
       g.Description AS Description,
       g.OrderValue AS OrderValue
FROM tbTargetGroup g;
"""
