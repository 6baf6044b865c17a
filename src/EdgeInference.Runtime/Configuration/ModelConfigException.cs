namespace EdgeInference.Runtime.Configuration;

/// <summary>A model config file that cannot be used; the message names the file and the problem.</summary>
public sealed class ModelConfigException : Exception
{
    public ModelConfigException()
    {
    }

    public ModelConfigException(string message)
        : base(message)
    {
    }

    public ModelConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
