namespace EdgeInference.Agent.PredictionLog;

/// <summary>An input kept with a sampled prediction record: its raw bytes as the model received them.</summary>
public sealed record PredictionInputSample(string Name, string DataType, long[] Shape, byte[] Data);
