using FsCheck;
using FsCheck.Xunit;
using MoeMesh.Devices;
using MoeMesh.Routing.CostModel;

namespace MoeMesh.Routing.Tests.CostModel;

public sealed class ExpertCostModelTests
{
    private static readonly DeviceProfile Rtx4090 = new()
    {
        Name = "RTX 4090 desktop", Kind = DeviceKind.DesktopGpu, MemoryBytes = 25_769_803_776,
        MemoryBandwidthGBps = 1008, Fp16Tflops = 165, IdlePowerWatts = 25, MaxPowerWatts = 450,
    };

    private static readonly DeviceProfile Orin = new()
    {
        Name = "Jetson AGX Orin 64GB", Kind = DeviceKind.Jetson, MemoryBytes = 68_719_476_736,
        MemoryBandwidthGBps = 204.8, Fp16Tflops = 42, IdlePowerWatts = 15, MaxPowerWatts = 60,
    };

    private static readonly ExpertCostProfile Llama8B = new() { ExpertId = "llama-8b", ActiveParameters = 8_000_000_000, ActiveWeightBytes = 4_850_000_000 };

    [Fact]
    public void Decode_is_memory_bound_as_the_rule_of_thumb_says()
    {
        var options = new CostModelOptions();
        var estimate = ExpertCostModel.Roofline(Llama8B, Rtx4090, new RequestShape(0, 100), options);

        // 4.85 GB per token at 1008 GB/s × 0.6 efficiency.
        var perToken = 4.85e9 / (1008e9 * 0.6) * 1000;
        Assert.Equal(100 * perToken, estimate.DecodeMs, 6);
        Assert.Equal(0, estimate.PrefillMs);

        // The Jetson decodes about 5× slower but, at a quarter of the power range, uses less energy.
        var onOrin = ExpertCostModel.Roofline(Llama8B, Orin, new RequestShape(0, 100), options);
        Assert.Equal(1008 / 204.8, onOrin.DecodeMs / estimate.DecodeMs, 6);
        Assert.True(onOrin.EnergyJoules < estimate.EnergyJoules);
    }

    [Fact]
    public void Prefill_is_compute_bound_but_never_faster_than_one_pass_over_the_weights()
    {
        var options = new CostModelOptions();
        var longPrompt = ExpertCostModel.Roofline(Llama8B, Rtx4090, new RequestShape(2000, 0), options);
        Assert.Equal(2000 * 2.0 * 8e9 / (165e12 * 0.4) * 1000, longPrompt.PrefillMs, 6);

        var shortPrompt = ExpertCostModel.Roofline(Llama8B, Rtx4090, new RequestShape(1, 0), options);
        Assert.Equal(4.85e9 / (1008e9 * 0.6) * 1000, shortPrompt.PrefillMs, 6);
    }

    [Property(MaxTest = 300)]
    public bool Latency_and_energy_grow_with_prompt_output_and_model_size(PositiveInt prompt, PositiveInt output, PositiveInt extraPrompt, PositiveInt extraOutput, PositiveInt size)
    {
        var options = new CostModelOptions();
        var expert = new ExpertCostProfile { ExpertId = "e", ActiveParameters = size.Get * 10_000_000L, ActiveWeightBytes = size.Get * 6_000_000L };
        var bigger = expert with { ActiveParameters = expert.ActiveParameters * 2, ActiveWeightBytes = expert.ActiveWeightBytes * 2 };
        var shape = new RequestShape(prompt.Get % 10_000, output.Get % 4_000);
        var more = new RequestShape(shape.PromptTokens + (extraPrompt.Get % 1000), shape.OutputTokens + (extraOutput.Get % 1000));
        var baseline = ExpertCostModel.Roofline(expert, Orin, shape, options);
        var longer = ExpertCostModel.Roofline(expert, Orin, more, options);
        var larger = ExpertCostModel.Roofline(bigger, Orin, shape, options);
        return longer.LatencyMs >= baseline.LatencyMs && longer.EnergyJoules >= baseline.EnergyJoules
            && larger.LatencyMs >= baseline.LatencyMs && larger.EnergyJoules >= baseline.EnergyJoules;
    }

    [Property(MaxTest = 300)]
    public bool Faster_devices_are_never_slower(PositiveInt bandwidth, PositiveInt tflops, PositiveInt prompt, PositiveInt output)
    {
        var options = new CostModelOptions();
        var slow = Orin with { MemoryBandwidthGBps = 1 + (bandwidth.Get % 2000), Fp16Tflops = 1 + (tflops.Get % 300) };
        var fast = slow with { MemoryBandwidthGBps = slow.MemoryBandwidthGBps * 1.5, Fp16Tflops = slow.Fp16Tflops * 1.5 };
        var shape = new RequestShape(prompt.Get % 5000, output.Get % 2000);
        return ExpertCostModel.Roofline(Llama8B, fast, shape, options).LatencyMs <= ExpertCostModel.Roofline(Llama8B, slow, shape, options).LatencyMs;
    }

    [Fact]
    public void Hosted_models_cost_network_time_and_no_local_energy()
    {
        var cloud = new DeviceProfile
        {
            Name = "cloud", Kind = DeviceKind.Cloud, MemoryBytes = 0, MemoryBandwidthGBps = 1, Fp16Tflops = 1, IdlePowerWatts = 0, MaxPowerWatts = 0,
        };
        var options = new CostModelOptions();
        var estimate = ExpertCostModel.Roofline(Llama8B, cloud, new RequestShape(200, 90), options);
        Assert.Equal(0, estimate.EnergyJoules);
        Assert.Equal(options.CloudRoundTripMs, estimate.TransferMs);
        Assert.Equal(options.CloudTimeToFirstTokenMs + 1000, estimate.PrefillMs + estimate.DecodeMs, 6);
    }

    [Fact]
    public void Measurements_refine_prefill_and_decode_separately()
    {
        var model = Model();
        var shape = new RequestShape(500, 200);
        var prior = model.Predict("llama-8b", "orin", shape);

        // The box decodes twice as slowly as the prior says, and prefills exactly as predicted.
        for (var i = 0; i < 200; i++)
        {
            model.Observe("llama-8b", "orin", new CostObservation
            {
                PromptTokens = shape.PromptTokens,
                OutputTokens = shape.OutputTokens,
                PrefillMs = prior.PrefillMs,
                DecodeMs = prior.DecodeMs * 2,
                EnergyJoules = prior.EnergyJoules * 1.5,
            });
        }

        var refined = model.Predict("llama-8b", "orin", shape);
        Assert.Equal(prior.PrefillMs, refined.PrefillMs, 6);
        Assert.InRange(refined.DecodeMs / prior.DecodeMs, 1.95, 2.05);
        Assert.InRange(refined.EnergyJoules / prior.EnergyJoules, 1.45, 1.55);

        // Other experts and devices keep their prior.
        Assert.Equal(model.PredictPrior("llama-8b", "rtx", shape), model.Predict("llama-8b", "rtx", shape));
        Assert.Single(model.Refinements());
    }

    [Fact]
    public void One_measurement_moves_the_estimate_only_part_of_the_way()
    {
        var model = Model();
        var shape = new RequestShape(100, 100);
        var prior = model.Predict("llama-8b", "orin", shape);
        model.Observe("llama-8b", "orin", new CostObservation { PromptTokens = 100, OutputTokens = 100, PrefillMs = prior.PrefillMs, DecodeMs = prior.DecodeMs * 4 });
        var after = model.Predict("llama-8b", "orin", shape).DecodeMs / prior.DecodeMs;
        Assert.InRange(after, 1.05, 2.0);
    }

    [Fact]
    public void Concurrent_measurements_and_predictions_are_safe()
    {
        var model = Model();
        var shape = new RequestShape(300, 150);
        var prior = model.Predict("llama-8b", "orin", shape);
        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            if (i % 2 == 0)
            {
                model.Observe("llama-8b", "orin", new CostObservation { PromptTokens = 300, OutputTokens = 150, PrefillMs = prior.PrefillMs * 3, DecodeMs = prior.DecodeMs * 3 });
            }
            else
            {
                var estimate = model.Predict("llama-8b", "orin", shape);
                Assert.True(double.IsFinite(estimate.LatencyMs) && estimate.LatencyMs > 0);
            }
        });

        Assert.Equal(2000, model.Refinements().Single().Observations);
        Assert.InRange(model.Predict("llama-8b", "orin", shape).DecodeMs / prior.DecodeMs, 2.9, 3.1);
    }

    [Fact]
    public void Bad_measurements_and_unknown_names_fail_clearly()
    {
        var model = Model();
        var nan = Assert.Throws<ArgumentException>(() => model.Observe("llama-8b", "orin", new CostObservation { PromptTokens = 1, OutputTokens = 1, PrefillMs = double.NaN, DecodeMs = 1 }));
        Assert.Contains("NaN", nan.Message, StringComparison.Ordinal);
        var negative = Assert.Throws<ArgumentException>(() => model.Observe("llama-8b", "orin", new CostObservation { PromptTokens = 1, OutputTokens = 1, PrefillMs = 1, DecodeMs = 1, EnergyJoules = -3 }));
        Assert.Contains("negative", negative.Message, StringComparison.Ordinal);
        Assert.Contains("no figures for expert 'nope'", Assert.Throws<KeyNotFoundException>(() => model.Predict("nope", "orin", new RequestShape(1, 1))).Message, StringComparison.Ordinal);
        Assert.Contains("no profile for device 'mars'", Assert.Throws<KeyNotFoundException>(() => model.Predict("llama-8b", "mars", new RequestShape(1, 1))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RequestShape(-1, 5));
        Assert.Contains("invalid profile", Assert.Throws<ArgumentException>(() => model.RegisterDevice("bad", Orin with { MemoryBandwidthGBps = double.NaN })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new ExpertCostModel(new CostModelOptions { DecodeBandwidthEfficiency = 0 }));
    }

    [Fact]
    public void Plan_latency_is_the_slowest_device_path_and_energy_the_sum()
    {
        PlanItem[] items = [new(0, 100, 10), new(0, 250, 20), new(1, 300, 30)];
        var cost = PlanCostCalculator.Compute(items, new PlanOverheads { CombineLatencyMs = 5, CombineEnergyJoules = 1 });
        Assert.Equal(355, cost.LatencyMs);
        Assert.Equal(61, cost.EnergyJoules);
        Assert.Equal(3, cost.Experts);
        Assert.Equal(100, PlanCostCalculator.Compute([new PlanItem(0, 100, 10)], new PlanOverheads { CombineLatencyMs = 5 }).LatencyMs);
    }

    [Property(MaxTest = 300)]
    public bool Adding_an_expert_never_makes_a_plan_cheaper(NonNegativeInt seed)
    {
        var random = new Random(seed.Get);
        var items = Enumerable.Range(0, 1 + random.Next(6)).Select(_ => new PlanItem(random.Next(3), random.NextDouble() * 1000, random.NextDouble() * 100)).ToArray();
        var extra = new PlanItem(random.Next(3), random.NextDouble() * 1000, random.NextDouble() * 100);
        var overheads = new PlanOverheads { CombineLatencyMs = random.NextDouble() * 10, CombineEnergyJoules = random.NextDouble(), DevicePathLatencyMs = [random.NextDouble(), random.NextDouble(), random.NextDouble()] };
        var before = PlanCostCalculator.Compute(items, overheads);
        var after = PlanCostCalculator.Compute([.. items, extra], overheads);
        return after.LatencyMs >= before.LatencyMs && after.EnergyJoules >= before.EnergyJoules;
    }

    [Fact]
    public void Observations_come_from_engine_metrics()
    {
        var metrics = new MoeMesh.Generation.GenerationMetrics { PromptTokens = 120, ReusedPromptTokens = 20, GeneratedTokens = 64, TimeToFirstTokenMs = 90, QueueMs = 10, TotalMs = 1090 };
        var observation = CostObservation.FromMetrics(metrics, 12.5);
        Assert.Equal(100, observation.PromptTokens);
        Assert.Equal(64, observation.OutputTokens);
        Assert.Equal(80, observation.PrefillMs);
        Assert.Equal(1000, observation.DecodeMs);
        Assert.Equal(12.5, observation.EnergyJoules);
    }

    private static ExpertCostModel Model()
    {
        var model = new ExpertCostModel();
        model.RegisterDevice("orin", Orin);
        model.RegisterDevice("rtx", Rtx4090);
        model.RegisterExpert(Llama8B);
        return model;
    }
}
