using MoeMesh.Routing.Data;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Routing.Tests.Fitting;

public sealed class DeviceAssignmentTests
{
    [Fact]
    public void Parses_devices_and_their_experts()
    {
        var assignment = DeviceAssignment.Parse(" jetson-agx-orin-64gb : mathstral-7B, Phi-3-mini-4k-instruct ; rtx-4090-desktop:Yi-34B,mathstral-7B");
        Assert.Equal(["jetson-agx-orin-64gb", "rtx-4090-desktop"], assignment.Devices);
        Assert.Equal(["jetson-agx-orin-64gb", "rtx-4090-desktop"], assignment.DevicesOf("mathstral-7B"));
        Assert.Equal("jetson-agx-orin-64gb:mathstral-7B,Phi-3-mini-4k-instruct;rtx-4090-desktop:Yi-34B,mathstral-7B", assignment.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("jetson")]
    [InlineData("jetson:")]
    [InlineData(":model")]
    public void Malformed_specs_fail_clearly(string spec)
        => Assert.Throws<FormatException>(() => DeviceAssignment.Parse(spec));

    [Fact]
    public void Problems_name_unplaced_experts_and_unknown_devices()
    {
        var assignment = DeviceAssignment.Parse("mars-box:Yi-34B");
        var problems = assignment.Validate(["Yi-34B", "gemma-7b"], d => d != "mars-box");
        Assert.Contains(problems, p => p.Contains("gemma-7b", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'mars-box' has no profile", StringComparison.Ordinal));
        Assert.Equal(["Yi-34B"], assignment.OutsidePool(["gemma-7b"]));
    }

    [Fact]
    public void The_default_places_every_pool_model_within_device_memory()
    {
        var edge = DeviceAssignment.DefaultFor(RecordedModelCatalog.EdgePool);
        Assert.Empty(edge.Validate(RecordedModelCatalog.EdgePool, _ => true));
        Assert.Equal([DeviceAssignment.JetsonId, DeviceAssignment.Rtx4090Id], edge.Devices.Order());

        var all = DeviceAssignment.DefaultFor(RecordedModelCatalog.AllPool);
        Assert.Empty(all.Validate(RecordedModelCatalog.AllPool, _ => true));
        Assert.Equal([DeviceAssignment.CloudDeviceId], all.DevicesOf("gemini-1.5-pro-002"));
        Assert.Equal([DeviceAssignment.CloudDeviceId], all.DevicesOf("jamba-1.5-large"));
        Assert.Equal([DeviceAssignment.JetsonId], all.DevicesOf("Meta-Llama-3-70B"));
        foreach (var placement in all.Placements.Where(p => p.DeviceId != DeviceAssignment.CloudDeviceId))
        {
            var bytes = DeviceAssignment.ManifestOf(placement.Expert, "Q4_K_M")!.WeightBytes;
            var limit = placement.DeviceId == DeviceAssignment.Rtx4090Id ? 24L << 30 : 64L << 30;
            Assert.True(bytes < limit, $"{placement.Expert} ({bytes} bytes) does not fit {placement.DeviceId}");
        }
    }
}
