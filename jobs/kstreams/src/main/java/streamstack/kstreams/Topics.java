package streamstack.kstreams;

/** The topics one app reads and writes (names come from config/topics.yaml through the caller). */
public record Topics(String purchases, String products, String output, String invalid, int productPartitions) {}
