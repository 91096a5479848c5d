using System.Globalization;

namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>
/// One in-memory membership table shared by in-process silos, each through its own
/// <see cref="View"/>. Cutting a view makes every call from that silo fail, as a process killed
/// with <c>kill -9</c> writes nothing: it cannot mark itself dead, so the others find out only
/// through their probes and votes, as on a real LAN.
/// </summary>
internal sealed class SharedMembershipTable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<SiloAddress, (MembershipEntry Entry, string ETag)> _rows = [];
    private TableVersion _version = new(0, "0");
    private long _etags;

    /// <summary>A silo's connection to the table.</summary>
    public View NewView() => new(this);

    internal sealed class View(SharedMembershipTable table) : IMembershipTable
    {
        private volatile bool _cut;

        /// <summary>From now on every call from this silo fails.</summary>
        public void Cut() => _cut = true;

        public Task InitializeMembershipTable(bool tryInitTableVersion) => Run(() => true);

        public Task DeleteMembershipTableEntries(string clusterId) => Run(table.Clear);

        public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => Run(() => true);

        public Task<MembershipTableData> ReadRow(SiloAddress key) => Run(() => table.Read(key));

        public Task<MembershipTableData> ReadAll() => Run(() => table.Read(null));

        public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => Run(() => table.Write(entry, null, tableVersion));

        public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => Run(() => table.Write(entry, etag, tableVersion));

        public Task UpdateIAmAlive(MembershipEntry entry) => Run(() => table.Touch(entry));

        private Task<T> Run<T>(Func<T> operation)
            => _cut ? Task.FromException<T>(new TimeoutException("The membership store is unreachable from this silo.")) : Task.FromResult(operation());
    }

    private bool Clear()
    {
        lock (_gate)
        {
            _rows.Clear();
            return true;
        }
    }

    private MembershipTableData Read(SiloAddress? key)
    {
        lock (_gate)
        {
            var rows = _rows.Values.Where(r => key is null || r.Entry.SiloAddress.Equals(key)).Select(r => Tuple.Create(Copy(r.Entry), r.ETag)).ToList();
            return new MembershipTableData(rows, _version);
        }
    }

    /// <summary>Inserts (<paramref name="etag"/> null) or updates a row if the caller saw the latest table and row versions.</summary>
    private bool Write(MembershipEntry entry, string? etag, TableVersion version)
    {
        lock (_gate)
        {
            var exists = _rows.TryGetValue(entry.SiloAddress, out var row);
            if (exists != etag is not null || (exists && row.ETag != etag) || version.VersionEtag != _version.VersionEtag)
            {
                return false;
            }

            _rows[entry.SiloAddress] = (Copy(entry), NextETag());
            _version = new TableVersion(version.Version, NextETag());
            return true;
        }
    }

    private bool Touch(MembershipEntry entry)
    {
        lock (_gate)
        {
            if (_rows.TryGetValue(entry.SiloAddress, out var row))
            {
                var updated = Copy(row.Entry);
                updated.IAmAliveTime = entry.IAmAliveTime;
                _rows[entry.SiloAddress] = (updated, NextETag());
            }

            return true;
        }
    }

    private string NextETag() => (++_etags).ToString(CultureInfo.InvariantCulture);

    private static MembershipEntry Copy(MembershipEntry e) => new()
    {
        SiloAddress = e.SiloAddress,
        Status = e.Status,
        SuspectTimes = e.SuspectTimes is null ? null : [.. e.SuspectTimes],
        ProxyPort = e.ProxyPort,
        HostName = e.HostName,
        SiloName = e.SiloName,
        RoleName = e.RoleName,
        UpdateZone = e.UpdateZone,
        FaultZone = e.FaultZone,
        StartTime = e.StartTime,
        IAmAliveTime = e.IAmAliveTime,
    };
}
