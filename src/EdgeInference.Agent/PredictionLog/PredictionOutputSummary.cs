namespace EdgeInference.Agent.PredictionLog;

/// <summary>An output in a logged prediction: its shape and its first values.</summary>
public sealed record PredictionOutputSummary(string Name, long[] Shape, double[] Values);
