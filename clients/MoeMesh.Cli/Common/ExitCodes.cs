namespace MoeMesh.Cli.Common;

/// <summary>Exit codes of <c>moemesh</c> verbs.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The work ran and failed (a query error, a failed benchmark).</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments or input.</summary>
    public const int Usage = 2;

    /// <summary>No gateway of the mesh answered.</summary>
    public const int MeshUnreachable = 3;

    /// <summary>The model hub could not be reached (offline); the same code as an unreachable mesh.</summary>
    public const int HubUnreachable = 3;
}
