namespace EdgeInference.Storage;

/// <summary>A record a <see cref="DurableLog{TRecord}"/> keeps: numbered by the log, stored in a compact binary form.</summary>
public interface IDurableRecord<TSelf>
    where TSelf : IDurableRecord<TSelf>
{
    /// <summary>Assigned by the log when the record is committed; never reused on a device.</summary>
    long Sequence { get; set; }

    /// <summary>Writes the record (its sequence is implied by its batch).</summary>
    void WriteTo(BinaryWriter writer);

    static abstract TSelf ReadFrom(BinaryReader reader, long sequence);
}
