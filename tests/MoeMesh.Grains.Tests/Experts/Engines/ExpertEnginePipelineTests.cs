using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MoeMesh.Devices;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Grains.Energy;
using MoeMesh.Grains.Experts.Engines;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Residency;
using MoeMesh.Grains.Tests.TestDoubles;
using MoeMesh.Inference.Engines;

namespace MoeMesh.Grains.Tests.Experts.Engines;

public sealed class ExpertEnginePipelineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly DeviceProfile Device = new()
    {
        Name = "test box", Kind = DeviceKind.Cpu, MemoryBytes = 1L << 34, MemoryBandwidthGBps = 50, Fp16Tflops = 1, IdlePowerWatts = 10, MaxPowerWatts = 50,
    };

    [Fact]
    public async Task Decorators_compose_with_the_first_added_outermost()
    {
        var order = new List<string>();
        var engine = new KnownSpeedEngine(ManifestFiles.Scripted("known", ["general"])) { NaturalOutputTokens = 2 };

        var composed = engine.AsBuilder()
            .Use(inner => new Recording(inner, "outer", order))
            .Use(inner => new Recording(inner, "middle", order))
            .Use(inner => new Recording(inner, "inner", order))
            .Build();
        await CalibratingExpertEngineTests.Drain(composed.GenerateAsync(GenerationRequest.FromPrompt("hi")));

        Assert.Equal(["outer", "middle", "inner"], order);
        Assert.Same(engine.Manifest, composed.Manifest);
        Assert.Equal("outer", composed.GetService<Recording>()!.Name);
    }

    [Fact]
    public async Task The_silo_pipeline_accounts_energy_tracks_load_and_calibrates_in_one_pass()
    {
        var time = new FakeTimeProvider();
        var energy = new EnergyAccountant(new DeviceModelEnergyMeter(Device, time), Device, time);
        var residency = new ExpertResidency(new ModelMemoryBudget(1L << 30), time, NullLogger<ExpertResidency>.Instance);
        var gate = new GatedEngine();
        var replica = new ExpertReplica("gated", 0);

        var composed = gate.AsBuilder()
            .UseInstrumentation("silo-a")
            .UseCalibration()
            .UseDeadline(() => null, () => 0, time)
            .UseResidency(residency, replica, time)
            .UseEnergyAccounting(energy)
            .Build();
        var tracking = composed.GetService<ResidencyTrackingExpertEngine>()!;
        var calibrating = composed.GetService<CalibratingExpertEngine>()!;

        var run = CalibratingExpertEngineTests.Drain(composed.GenerateAsync(GenerationRequest.FromPrompt("hi")));
        await gate.Started.Task.WaitAsync(Bound);
        Assert.Equal(1, tracking.Active);

        // Two seconds busy on the model meter: 2 s × (50 W − 10 W idle) above idle.
        time.Advance(TimeSpan.FromSeconds(2));
        gate.Release.SetResult();
        var metrics = await run.WaitAsync(Bound);

        Assert.Equal(80, metrics.EnergyJoules!.Value, 6);
        Assert.Equal("model", metrics.EnergySource);
        Assert.Equal(0, tracking.Active);
        Assert.Equal(1, tracking.Served);
        Assert.NotNull(calibrating.Current);
    }

    [Fact]
    public async Task Concurrent_generations_share_the_meter_increment_by_their_busy_time()
    {
        var time = new FakeTimeProvider();
        var energy = new EnergyAccountant(new DeviceModelEnergyMeter(Device, time), Device, time);
        var first = new GatedEngine();
        var second = new GatedEngine();
        var a = new EnergyAccountingExpertEngine(first, energy);
        var b = new EnergyAccountingExpertEngine(second, energy);

        var runA = CalibratingExpertEngineTests.Drain(a.GenerateAsync(GenerationRequest.FromPrompt("a")));
        await first.Started.Task.WaitAsync(Bound);
        time.Advance(TimeSpan.FromSeconds(1));
        var runB = CalibratingExpertEngineTests.Drain(b.GenerateAsync(GenerationRequest.FromPrompt("b")));
        await second.Started.Task.WaitAsync(Bound);
        time.Advance(TimeSpan.FromSeconds(1));
        first.Release.SetResult();
        var metricsA = await runA.WaitAsync(Bound);
        time.Advance(TimeSpan.FromSeconds(1));
        second.Release.SetResult();
        var metricsB = await runB.WaitAsync(Bound);

        // 40 W above idle: A alone 1 s (40 J), both 1 s (20 J each), B alone 1 s (40 J); the parts add up to the meter's 120 J.
        Assert.Equal(60, metricsA.EnergyJoules!.Value, 6);
        Assert.Equal(60, metricsB.EnergyJoules!.Value, 6);
    }

    private sealed class Recording(IExpertEngine inner, string name, List<string> order) : DelegatingExpertEngine(inner)
    {
        public string Name => name;

        public override IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
        {
            order.Add(name);
            return base.GenerateAsync(request, cancellationToken);
        }
    }

    /// <summary>Generates one word once the test releases it, so the test decides how long the run is busy.</summary>
    private sealed class GatedEngine : IExpertEngine
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ExpertManifest Manifest { get; } = ManifestFiles.Scripted("gated", ["general"]);

        public long ResidentBytes => 1;

        public async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            yield return new GenerationChunk { Text = "done" };
            yield return new GenerationChunk { Metrics = new GenerationMetrics { PromptTokens = 4, GeneratedTokens = 1, TotalMs = 2000, TimeToFirstTokenMs = 2000 } };
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
