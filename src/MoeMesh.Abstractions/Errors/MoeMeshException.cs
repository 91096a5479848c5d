namespace MoeMesh.Errors;

/// <summary>Base of the errors MoeMesh reports to callers; each says what went wrong and what to do.</summary>
[GenerateSerializer]
[Alias("moemesh.error")]
public class MoeMeshException : Exception
{
    public MoeMeshException()
    {
    }

    public MoeMeshException(string message)
        : base(message)
    {
    }

    public MoeMeshException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The request itself is wrong (bad options, prompt too long, unknown expert); retrying will not help.</summary>
[GenerateSerializer]
[Alias("moemesh.invalid-request")]
public sealed class InvalidRequestException : MoeMeshException
{
    public InvalidRequestException()
    {
    }

    public InvalidRequestException(string message)
        : base(message)
    {
    }

    public InvalidRequestException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Throws when <paramref name="problems"/> is not empty, listing every problem.</summary>
    public static void ThrowIfAny(IReadOnlyList<string> problems, string what)
    {
        if (problems.Count > 0)
        {
            throw new InvalidRequestException($"Invalid {what}: {string.Join("; ", problems)}.");
        }
    }
}

/// <summary>An expert cannot serve: its model failed to load, or no silo can hold it.</summary>
[GenerateSerializer]
[Alias("moemesh.expert-unavailable")]
public sealed class ExpertUnavailableException : MoeMeshException
{
    public ExpertUnavailableException()
    {
    }

    public ExpertUnavailableException(string message)
        : base(message)
    {
    }

    public ExpertUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
