using System.Collections.Immutable;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Routing;

namespace MoeMesh.Grains.Tests.Routing;

/// <summary>A failover lost while addressing a grain waits for membership to drop the silo it could not reach.</summary>
public sealed class MembershipWaitTests
{
    private static readonly SiloAddress A = SiloAddress.New(IPAddress.Parse("10.0.0.1"), 11111, 7);
    private static readonly SiloAddress C = SiloAddress.New(IPAddress.Parse("10.0.0.3"), 11111, 7);

    [Fact]
    public async Task Returns_once_membership_declares_the_silo_dead()
    {
        var membership = new ScriptedMembership(Snapshot(1, (A, SiloStatus.Active), (C, SiloStatus.Active)));
        var time = new FakeTimeProvider();

        var waiting = MembershipWait.UntilNotActiveAsync(membership, SiloIdentity.NameOf(C), TimeSpan.FromSeconds(10), time, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        membership.Publish(Snapshot(2, (A, SiloStatus.Active), (C, SiloStatus.Dead)));
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Gives_up_after_the_limit_while_the_silo_stays_active()
    {
        var membership = new ScriptedMembership(Snapshot(1, (A, SiloStatus.Active), (C, SiloStatus.Active)));
        var time = new FakeTimeProvider();

        var waiting = MembershipWait.UntilNotActiveAsync(membership, SiloIdentity.NameOf(C), TimeSpan.FromSeconds(10), time, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_silo_already_gone_needs_no_wait()
    {
        var membership = new ScriptedMembership(Snapshot(1, (A, SiloStatus.Active)));

        Assert.True(await MembershipWait.UntilNotActiveAsync(membership, SiloIdentity.NameOf(C), TimeSpan.FromSeconds(10), new FakeTimeProvider(), CancellationToken.None));
    }

    private static ClusterMembershipSnapshot Snapshot(long version, params (SiloAddress Silo, SiloStatus Status)[] members)
        => new(members.ToImmutableDictionary(m => m.Silo, m => new ClusterMember(m.Silo, m.Status, m.Silo.ToString())), new MembershipVersion(version));

    private sealed class ScriptedMembership(ClusterMembershipSnapshot first) : IClusterMembershipService
    {
        private readonly Channel<ClusterMembershipSnapshot> _updates = Channel.CreateUnbounded<ClusterMembershipSnapshot>();

        public ClusterMembershipSnapshot CurrentSnapshot { get; private set; } = first;

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => _updates.Reader.ReadAllAsync();

        public void Publish(ClusterMembershipSnapshot snapshot)
        {
            CurrentSnapshot = snapshot;
            _updates.Writer.TryWrite(snapshot);
        }

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => Task.FromResult(false);
    }
}
