using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using MoeMesh.Dashboard.Api;

namespace MoeMesh.Dashboard.Tests.Api;

public sealed class OpenAiErrorTests
{
    [Fact]
    public async Task A_read_the_mesh_does_not_answer_becomes_a_503_naming_the_failure()
    {
        var result = await OpenAiError.GuardMeshAsync(() => throw new TimeoutException("silo 2 timed out"));

        var error = Assert.IsAssignableFrom<IValueHttpResult<OpenAiError.Envelope>>(result).Value!.Error;
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode);
        Assert.Equal("The mesh is not answering: silo 2 timed out", error.Message);
        Assert.Equal(OpenAiError.Unavailable, error.Type);
        Assert.Equal("mesh_unavailable", error.Code);
    }

    [Fact]
    public async Task A_read_that_answers_passes_through_and_a_cancelled_one_stays_cancelled()
    {
        var ok = Results.Ok();

        Assert.Same(ok, await OpenAiError.GuardMeshAsync(() => Task.FromResult(ok)));
        await Assert.ThrowsAsync<OperationCanceledException>(() => OpenAiError.GuardMeshAsync(() => throw new OperationCanceledException()));
    }
}
