/** What a client asks the gateway to do with fal, whichever route it came through. */
export type Operation = 'submit' | 'status' | 'stream' | 'result' | 'cancel' | 'upload' | 'run'

/** The rate-limit budget an operation draws from. */
export type Budget = 'submit' | 'poll' | 'upload'

const BUDGET: Record<Operation, Budget> = {
  submit: 'submit',
  status: 'poll',
  stream: 'poll',
  result: 'poll',
  cancel: 'poll',
  upload: 'upload',
  // A synchronous run (fal.run, fal.stream) starts a job as a submit does.
  run: 'submit'
}

export function budgetOf (operation: Operation): Budget {
  return BUDGET[operation]
}
