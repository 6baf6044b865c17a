namespace EdgeInference.Fleet.Api;

/// <summary>Every 4xx/5xx body: what went wrong, in words that name the problem.</summary>
public sealed class ApiError
{
    public string Error { get; set; } = "";
}
