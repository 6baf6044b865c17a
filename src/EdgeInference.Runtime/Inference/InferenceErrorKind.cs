namespace EdgeInference.Runtime.Inference;

/// <summary>What went wrong, so each protocol can map it to its status code.</summary>
public enum InferenceErrorKind
{
    /// <summary>Unknown model or version (HTTP 404, gRPC NOT_FOUND).</summary>
    NotFound,

    /// <summary>The request does not fit the model (HTTP 400, gRPC INVALID_ARGUMENT).</summary>
    InvalidInput,

    /// <summary>The model exists but is not ready (HTTP 503, gRPC UNAVAILABLE).</summary>
    Unavailable,

    /// <summary>The request body is over the configured limit (HTTP 413, gRPC RESOURCE_EXHAUSTED).</summary>
    TooLarge,

    /// <summary>The runtime failed (HTTP 500, gRPC INTERNAL).</summary>
    Internal,
}
