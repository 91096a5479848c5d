using System.Buffers;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace MoeMesh.Dashboard.Api;

/// <summary>An API request's body: JSON only, read whole up to a limit before anything parses it.</summary>
internal static class RequestBody
{
    public static bool IsJson(string? contentType)
        => MediaTypeHeaderValue.TryParse(contentType, out var media)
           && media.MediaType is { } type
           && (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    /// <summary>The body, or null when it is larger than <paramref name="limit"/> bytes.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size && (size.MaxRequestBodySize is null || size.MaxRequestBodySize > limit))
        {
            size.MaxRequestBodySize = limit;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var body = new MemoryStream();
            while (true)
            {
                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer, cancellationToken);
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    return null;
                }

                if (read == 0)
                {
                    return body.ToArray();
                }

                if (body.Length + read > limit)
                {
                    return null;
                }

                body.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
