namespace EdgeInference.Agent.Updates;

/// <summary>A staged version that failed golden vectors; the outcome says how many passed.</summary>
public sealed class GoldenFailedException : Exception
{
    public GoldenFailedException(GoldenOutcome outcome)
        : base($"{outcome.Passed} of {outcome.Total} golden vectors passed; {outcome.FirstFailure}")
    {
        Outcome = outcome;
    }

    public GoldenFailedException()
        : this(new GoldenOutcome(0, 0, null))
    {
    }

    public GoldenFailedException(string message)
        : base(message)
    {
        Outcome = new GoldenOutcome(0, 0, message);
    }

    public GoldenFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Outcome = new GoldenOutcome(0, 0, message);
    }

    public GoldenOutcome Outcome { get; }
}
