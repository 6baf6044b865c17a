namespace EdgeInference.Runtime.Inference;

/// <summary>A request that cannot be served; the message names the problem and is safe to return to the client.</summary>
public sealed class InferenceException : Exception
{
    public InferenceException()
        : this(InferenceErrorKind.Internal, "inference failed")
    {
    }

    public InferenceException(string message)
        : this(InferenceErrorKind.InvalidInput, message)
    {
    }

    public InferenceException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = InferenceErrorKind.Internal;
    }

    public InferenceException(InferenceErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public InferenceErrorKind Kind { get; }
}
