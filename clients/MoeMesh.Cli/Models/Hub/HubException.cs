using MoeMesh.Cli.Common;

namespace MoeMesh.Cli.Models.Hub;

/// <summary>Why a hub request failed.</summary>
public enum HubFailure
{
    /// <summary>The hub could not be reached at all (no network, DNS failure, refused, timed out).</summary>
    Offline,

    /// <summary>401/403: a gated or private model, or a token without access.</summary>
    Denied,

    /// <summary>404: no such repository, revision or file.</summary>
    NotFound,

    /// <summary>The repository holds no GGUF file for the requested quantisation.</summary>
    NoMatchingFile,

    /// <summary>The bytes received do not hash to the published SHA-256.</summary>
    HashMismatch,

    /// <summary>The connection broke during the download; the partial file is kept for a resume.</summary>
    Interrupted,

    /// <summary>Anything else the hub answered that cannot be used.</summary>
    BadResponse,
}

/// <summary>A hub request that failed, with a message fit for the terminal.</summary>
public sealed class HubException(HubFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public HubFailure Failure { get; } = failure;

    /// <summary>The <c>moemesh</c> exit code: 3 offline, 2 for a name that does not exist, 1 otherwise.</summary>
    public int ExitCode => Failure switch
    {
        HubFailure.Offline => ExitCodes.HubUnreachable,
        HubFailure.NotFound or HubFailure.NoMatchingFile => ExitCodes.Usage,
        _ => ExitCodes.Failed,
    };
}
