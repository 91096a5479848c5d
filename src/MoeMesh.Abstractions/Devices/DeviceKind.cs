namespace MoeMesh.Devices;

/// <summary>The broad class of an edge box; manifests constrain placement by it.</summary>
public enum DeviceKind
{
    /// <summary>A machine without an accelerator: models run on the host CPU and RAM.</summary>
    Cpu = 0,

    /// <summary>An NVIDIA Jetson module (AGX Orin, Orin NX, Orin Nano): unified CPU/GPU memory.</summary>
    Jetson = 1,

    /// <summary>A desktop or server with a discrete NVIDIA GPU (RTX 4090, RTX 3090).</summary>
    DesktopGpu = 2,

    /// <summary>A hosted model reached over the network: no local memory or energy.</summary>
    Cloud = 3,
}
