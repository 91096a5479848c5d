using Microsoft.Extensions.Time.Testing;
using MoeMesh.Grains.Routing.Planning;

namespace MoeMesh.Grains.Tests.Routing.Planning;

public sealed class LiveLoadTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_replica_knows_how_many_runs_it_had_in_flight_at_any_recent_moment()
    {
        var time = new FakeTimeProvider(Start);
        var load = new LiveLoad(time);
        var replica = load.Replica("e", "10.0.0.5:1@1");

        time.Advance(TimeSpan.FromMilliseconds(10));
        replica.Enter();
        time.Advance(TimeSpan.FromMilliseconds(10));
        replica.Enter();
        time.Advance(TimeSpan.FromMilliseconds(10));
        replica.Leave();

        Assert.Equal(0, load.RunningOnReplicaAt("e", "10.0.0.5:1@1", Start));
        Assert.Equal(1, load.RunningOnReplicaAt("e", "10.0.0.5:1@1", Start.AddMilliseconds(15)));
        Assert.Equal(2, load.RunningOnReplicaAt("e", "10.0.0.5:1@1", Start.AddMilliseconds(25)));
        Assert.Equal(1, load.RunningOnReplicaAt("e", "10.0.0.5:1@1", Start.AddSeconds(5)));
        Assert.Equal(0, load.RunningOnReplicaAt("other", "10.0.0.5:1@1", Start.AddSeconds(5)));
    }

    [Fact]
    public void A_moment_older_than_the_history_kept_is_taken_at_the_most_this_router_ran_since()
    {
        var time = new FakeTimeProvider(Start);
        var load = new LiveLoad(time);
        var replica = load.Replica("e", "silo");

        // Three at once, then a long tail of single runs pushes the three out of the history.
        time.Advance(TimeSpan.FromMilliseconds(1));
        replica.Enter();
        replica.Enter();
        replica.Enter();
        replica.Leave();
        replica.Leave();
        for (var i = 0; i < 100; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            replica.Enter();
            replica.Leave();
        }

        // Not known: the most kept (two, while one single run overlapped the last of the three), so a report that old is not counted twice.
        Assert.Equal(2, load.RunningOnReplicaAt("e", "silo", Start));
    }

    [Fact]
    public void A_host_counts_its_busy_engines_as_their_runs_start_and_end()
    {
        var load = new LiveLoad(TimeProvider.System);
        var a = load.Replica("a", "10.0.0.5:1@1");
        var b = load.Replica("b", "10.0.0.5:2@2");
        var c = load.Replica("c", "10.0.0.6:1@3");

        a.Enter();
        a.Enter();
        a.Enter();
        b.Enter();
        c.Enter();

        // Three runs on a are one engine; c is on another host; an engine does not compete with itself.
        Assert.Equal(2, load.Elsewhere("x", "10.0.0.5:1@1", 0));
        Assert.Equal(1, load.Elsewhere("a", "10.0.0.5:1@1", 0));
        Assert.Equal(1, load.Elsewhere("b", "10.0.0.5:2@2", 0));
        Assert.Equal(0, load.Elsewhere("c", "10.0.0.6:1@3", 0));

        a.Leave();
        a.Leave();
        Assert.Equal(2, load.Elsewhere("x", "10.0.0.5:1@1", 0));
        a.Leave();
        Assert.Equal(1, load.Elsewhere("x", "10.0.0.5:1@1", 0));
        b.Leave();
        Assert.Equal(0, load.Elsewhere("x", "10.0.0.5:1@1", 0));
    }

    [Fact]
    public void A_host_without_tracked_replicas_counts_its_sequences_besides_the_engines_own()
    {
        var load = new LiveLoad(TimeProvider.System);
        load.Silo("10.0.0.5:1@1").Enter();
        load.Silo("10.0.0.5:2@2").Enter();
        load.Silo("10.0.0.5:2@2").Others = 2;

        Assert.Equal(4, load.RunningOnHost("10.0.0.5:1@1"));
        Assert.Equal(3, load.Elsewhere("x", "10.0.0.5:1@1", 1));
        Assert.Equal(0, load.Elsewhere("x", "10.0.0.9:1@1", 0));
    }
}
