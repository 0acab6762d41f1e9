/** One line of a benchmark table: a figure and, where it has one, the baseline of the same run. */
export interface BenchRow {
  figure: string;
  value: number;
  unit: string;
  baseline?: string;
  baselineValue?: number;
  ratio?: number;
  target?: string;
  met?: boolean;
  detail?: string;
}

/** A figure measured beside a baseline. */
export type ComparedRow = BenchRow & Required<Pick<BenchRow, 'baseline' | 'baselineValue' | 'ratio'>>;

/** A compared figure with a target it meets or not. */
export type TargetRow = ComparedRow & Required<Pick<BenchRow, 'target' | 'met'>>;
