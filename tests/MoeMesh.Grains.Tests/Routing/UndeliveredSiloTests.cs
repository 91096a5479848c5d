using System.Net;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using MoeMesh.Catalog;
using MoeMesh.Devices;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Routing;

namespace MoeMesh.Grains.Tests.Routing;

/// <summary>
/// Which silo a failed expert call could not reach. The case from the fault lab: after a kill -9 of
/// silo C, calls to fresh replicas planned on the healthy silos A and B fail while C still owns the
/// grain directory partition, with "Unable to connect to endpoint S&lt;C&gt;". Blaming the planned silo
/// took A and then B out of every plan: "No expert can serve: no silo is active."
/// </summary>
public sealed class UndeliveredSiloTests
{
    private static readonly DeviceProfile Rtx = DeviceProfileResolver.Resolve(new DeviceOptions { Profile = "rtx-4090-desktop" });
    private static readonly SiloAddress A = SiloAddress.New(IPAddress.Parse("10.231.77.11"), 11111, 155294026);
    private static readonly SiloAddress B = SiloAddress.New(IPAddress.Parse("10.231.77.12"), 11111, 155294026);
    private static readonly SiloAddress C = SiloAddress.New(IPAddress.Parse("10.231.77.13"), 11111, 155294026);

    private static OrleansMessageRejectionException DirectoryOnDeadSilo(SiloAddress dead) => Rejection(
        $"Exception while sending message: Orleans.Runtime.Messaging.ConnectionFailedException: Unable to connect to endpoint {dead}. See InnerException");

    // Orleans raises this one itself; its constructors are not public.
    private static OrleansMessageRejectionException Rejection(string message)
        => (OrleansMessageRejectionException)Activator.CreateInstance(
            typeof(OrleansMessageRejectionException), BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null, [message], null)!;

    [Fact]
    public void A_connection_failure_names_the_dead_silo_not_the_planned_one()
    {
        Assert.Equal(SiloIdentity.NameOf(C), UndeliveredSilo.Find(DirectoryOnDeadSilo(C), reportedSilo: null));
        Assert.Equal(
            SiloIdentity.NameOf(C),
            UndeliveredSilo.Find(Rejection($"Exception while sending message: Unable to connect to {C}, will retry after 376.7534ms"), null));
    }

    [Fact]
    public void An_unavailable_target_is_read_from_the_message_target_not_its_sender()
    {
        var failure = new SiloUnavailableException(
            $"The target silo became unavailable for message: Request [{A} router/4]->[{C} expert/meta-llama-3-8b/5] Generate. Target History is: <{C}>.");

        Assert.Equal(SiloIdentity.NameOf(C), UndeliveredSilo.Find(failure, reportedSilo: SiloIdentity.NameOf(B)));
    }

    [Fact]
    public void Without_an_address_the_reporting_silo_is_blamed_and_without_a_report_none()
    {
        var bare = new SiloUnavailableException("The target silo became unavailable.");

        Assert.Equal(SiloIdentity.NameOf(B), UndeliveredSilo.Find(bare, reportedSilo: SiloIdentity.NameOf(B)));
        Assert.Null(UndeliveredSilo.Find(bare, reportedSilo: null));
    }

    [Fact]
    public void A_failure_of_the_expert_itself_is_no_delivery_failure()
    {
        var engine = new InvalidOperationException($"model failed to load on {C}");

        Assert.False(UndeliveredSilo.IsDeliveryFailure(engine));
        Assert.Null(UndeliveredSilo.Find(engine, SiloIdentity.NameOf(B)));
        Assert.True(UndeliveredSilo.IsDeliveryFailure(new InvalidOperationException("wrapped", DirectoryOnDeadSilo(C))));
    }

    [Fact]
    public async Task After_the_lab_failures_the_healthy_silos_stay_active_in_the_cached_catalog()
    {
        var snapshot = new CatalogSnapshot
        {
            Silos = [Silo(A), Silo(B), Silo(C)],
        };
        var cache = new CatalogCache(CatalogGrainReturning(snapshot), new FakeTimeProvider(DateTimeOffset.UtcNow));

        // Two queries planned fresh replicas on A and B; both calls failed while C owned their directory entries.
        foreach (var _ in new[] { A, B })
        {
            if (UndeliveredSilo.Find(DirectoryOnDeadSilo(C), reportedSilo: null) is { } silo)
            {
                cache.MarkUnreachable(silo);
            }
        }

        var seen = await cache.GetAsync();
        Assert.Equal(
            [SiloIdentity.NameOf(A), SiloIdentity.NameOf(B)],
            seen.Silos.Where(s => s.State == SiloState.Active).Select(s => s.Silo).Order(StringComparer.Ordinal));
        Assert.Equal(SiloState.Dead, seen.Silos.Single(s => s.Silo == SiloIdentity.NameOf(C)).State);
    }

    private static SiloInfo Silo(SiloAddress address) => new()
    {
        Silo = SiloIdentity.NameOf(address),
        Device = Rtx,
        State = SiloState.Active,
        ModelMemoryBudgetBytes = Rtx.MemoryBytes,
    };

    private static IGrainFactory CatalogGrainReturning(CatalogSnapshot snapshot)
    {
        var catalog = DispatchProxy.Create<ICatalogGrain, Answering>();
        ((Answering)(object)catalog).Answer = m => m.Name == nameof(ICatalogGrain.GetSnapshotAsync) ? Task.FromResult(snapshot) : null;
        var factory = DispatchProxy.Create<IGrainFactory, Answering>();
        ((Answering)(object)factory).Answer = m => m.Name == nameof(IGrainFactory.GetGrain) && m.ReturnType == typeof(ICatalogGrain) ? catalog : null;
        return factory;
    }

    /// <summary>Answers the calls a test needs; any other call is a test bug.</summary>
    public class Answering : DispatchProxy
    {
        public Func<MethodInfo, object?> Answer { get; set; } = _ => null;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
            => Answer(targetMethod!) ?? throw new InvalidOperationException($"unexpected call {targetMethod!.Name}");
    }
}
