-- airgap.wsus SUSDB query
-- name: configuration
-- parameters: none
-- columns: ServerId, HostOnMu, SyncToMU, UpstreamServerName, ServerSupportsAllLanguages, LocalContentCacheLocation, DownloadExpressPackages, LazySync, ReplicaMode
-- The server's options as stored in SUSDB (one row). LazySync is "download update files only
-- when approved" (inferred from its name and behaviour, unconfirmed by documentation).
SELECT
    a.ServerId AS ServerId,
    a.HostOnMu AS HostOnMu,
    a.SyncToMU AS SyncToMU,
    a.UpstreamServerName AS UpstreamServerName,
    b.ServerSupportsAllLanguages AS ServerSupportsAllLanguages,
    b.LocalContentCacheLocation AS LocalContentCacheLocation,
    c.DownloadExpressPackages AS DownloadExpressPackages,
    c.LazySync AS LazySync,
    c.ReplicaMode AS ReplicaMode
FROM dbo.tbConfigurationA AS a
JOIN dbo.tbConfigurationB AS b ON b.ConfigurationID = a.ConfigurationID
JOIN dbo.tbConfigurationC AS c ON c.ConfigurationID = a.ConfigurationID
