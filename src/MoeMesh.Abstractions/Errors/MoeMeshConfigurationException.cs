// The root namespace: every MoeMesh namespace sees it without a using, as silos, dashboards and tools all throw it.
namespace MoeMesh;

/// <summary>A host's configuration is wrong; the message lists every problem and where it came from.</summary>
public sealed class MoeMeshConfigurationException : Exception
{
    public MoeMeshConfigurationException(string message)
        : base(message)
    {
    }

    public MoeMeshConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MoeMeshConfigurationException()
    {
    }

    /// <summary>Throws one exception listing all <paramref name="problems"/>.</summary>
    public static void ThrowIfAny(IReadOnlyCollection<string> problems, string context)
    {
        if (problems.Count > 0)
        {
            throw new MoeMeshConfigurationException(
                $"{context}:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}");
        }
    }
}
