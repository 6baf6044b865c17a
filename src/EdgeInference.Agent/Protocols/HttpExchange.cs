using System.Buffers;
using System.IO.Pipelines;
using EdgeInference.Runtime.Inference;
using Microsoft.AspNetCore.Http;

namespace EdgeInference.Agent.Protocols;

/// <summary>Reading bounded request bodies and sending buffered JSON replies and errors.</summary>
internal static class HttpExchange
{
    /// <summary>Reads the whole body into a rented array (return it to <see cref="ArrayPool{T}.Shared"/>), refusing bodies over <paramref name="limit"/>.</summary>
    public static async ValueTask<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw new InferenceException(InferenceErrorKind.TooLarge, $"the request body of {request.ContentLength} bytes is over the limit of {limit} bytes");
        }

        var reader = request.BodyReader;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw new InferenceException(InferenceErrorKind.TooLarge, $"the request body is over the limit of {limit} bytes");
            }

            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw new InferenceException(InferenceErrorKind.TooLarge, $"the request body is over the limit of {limit} bytes");
            }

            if (result.IsCompleted)
            {
                var length = (int)buffer.Length;
                var array = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                buffer.CopyTo(array);
                reader.AdvanceTo(buffer.End);
                return (array, length);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public static int StatusOf(InferenceErrorKind kind) => kind switch
    {
        InferenceErrorKind.NotFound => StatusCodes.Status404NotFound,
        InferenceErrorKind.InvalidInput => StatusCodes.Status400BadRequest,
        InferenceErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        InferenceErrorKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>Sends what <paramref name="buffer"/> holds as the response body.</summary>
    public static Task SendAsync(HttpResponse response, ResponseBuffer buffer, string contentType, CancellationToken cancellationToken)
    {
        buffer.Json.Flush();
        response.ContentType = contentType;
        response.ContentLength = buffer.Output.WrittenCount;
        return response.Body.WriteAsync(buffer.Output.WrittenMemory, cancellationToken).AsTask();
    }

    /// <summary>Sends <c>{"error": message}</c> with <paramref name="status"/>, the error shape both REST protocols use.</summary>
    public static Task SendErrorAsync(HttpResponse response, ResponseBufferPool pool, int status, string message, CancellationToken cancellationToken)
    {
        var buffer = pool.Rent();
        buffer.Json.WriteStartObject();
        buffer.Json.WriteString("error"u8, message);
        buffer.Json.WriteEndObject();
        response.StatusCode = status;
        if (status == StatusCodes.Status413PayloadTooLarge)
        {
            // The rest of the body is not read, so this connection cannot carry another request.
            response.Headers.Connection = "close";
        }

        return SendAndReturnAsync(response, pool, buffer, cancellationToken);
    }

    public static async Task SendAndReturnAsync(HttpResponse response, ResponseBufferPool pool, ResponseBuffer buffer, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(response, buffer, "application/json", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            pool.Return(buffer);
        }
    }
}
