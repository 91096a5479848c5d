using MoeMesh.Activations;
using MoeMesh.Grains.Moe.DataPlane;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Tests.Moe.DataPlane;

/// <summary>The TCP frame stream between two silos and the hop measurement over both transports.</summary>
public sealed class ActivationDataPlaneTests : IAsyncLifetime
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);
    private MoeMeshCluster _mesh = null!;

    public async Task InitializeAsync() => _mesh = await MoeMeshCluster.StartAsync(silos: 2, replicas: 1);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private string SiloName(int index) => _mesh.Cluster.Silos[index].SiloAddress.ToParsableString();

    [Fact]
    public async Task Both_transports_carry_frames_between_silos_and_are_measured()
    {
        var measurement = await _mesh.PrimaryGrains.GetGrain<IActivationHopGrain>(SiloName(0)).MeasureAsync(SiloName(1), 256, ActivationDType.F16, 50);

        Assert.Equal(SiloName(0), measurement.FromSilo);
        Assert.Equal(SiloName(1), measurement.ToSilo);
        Assert.True(measurement.FrameBytes > 256 * 2 && measurement.ReplyBytes > 256 * 2);
        Assert.True(measurement.GrainCallP50Us > 0 && measurement.GrainCallP99Us >= measurement.GrainCallP50Us);
        Assert.True(measurement.TcpP50Us > 0 && measurement.TcpP99Us >= measurement.TcpP50Us);
    }

    [Fact]
    public async Task A_connection_without_the_token_is_dropped()
    {
        var endpoint = await _mesh.PrimaryGrains.GetGrain<IActivationHopGrain>(SiloName(1)).OpenDataPlaneAsync();
        using var client = await ActivationDataPlaneClient.ConnectAsync(endpoint with { Token = new byte[32] }, DataPlaneSecurity.Plaintext, CancellationToken.None);

        Assert.ThrowsAny<IOException>(() => client.Exchange(HopEcho.SampleInput(16, ActivationDType.F32), ReplyTimeout));
    }

    [Fact]
    public async Task A_reply_that_does_not_come_in_time_ends_the_blocking_wait()
    {
        // A peer that takes the connection and the frame but never answers.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = listener.AcceptTcpClientAsync();
        using var client = await ActivationDataPlaneClient.ConnectAsync(new DataPlaneEndpoint("127.0.0.1", port, new byte[32]), DataPlaneSecurity.Plaintext, CancellationToken.None);
        using var silent = await accepted;

        var error = Assert.ThrowsAny<IOException>(() => client.Exchange(HopEcho.SampleInput(16, ActivationDType.F32), TimeSpan.FromMilliseconds(200)));
        Assert.IsType<System.Net.Sockets.SocketException>(error.InnerException);
    }

    [Fact]
    public async Task A_malformed_frame_ends_only_its_connection()
    {
        var endpoint = await _mesh.PrimaryGrains.GetGrain<IActivationHopGrain>(SiloName(1)).OpenDataPlaneAsync();
        using (var bad = await ActivationDataPlaneClient.ConnectAsync(endpoint, DataPlaneSecurity.Plaintext, CancellationToken.None))
        {
            Assert.ThrowsAny<IOException>(() => bad.Exchange(new byte[] { 0x93, 0x01 }, ReplyTimeout));
        }

        using var good = await ActivationDataPlaneClient.ConnectAsync(endpoint, DataPlaneSecurity.Plaintext, CancellationToken.None);
        var reply = ActivationFrameCodec.Decode(good.Exchange(HopEcho.SampleInput(16, ActivationDType.Q8_0), ReplyTimeout));
        Assert.Equal(ActivationFrameKind.ExpertOutput, reply.Kind);
        Assert.Equal(16, reply.HiddenSize);
    }

    [Fact]
    public async Task The_grain_of_a_silo_outside_the_mesh_cannot_be_placed()
    {
        var missing = _mesh.PrimaryGrains.GetGrain<IActivationHopGrain>("127.0.0.1:1@1");
        await Assert.ThrowsAnyAsync<Exception>(() => missing.EchoAsync(HopEcho.SampleInput(16, ActivationDType.F32)));
    }
}
